import type { Kafka } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import type { LogSink } from './client.ts';
import { retrying } from './retrying.ts';
import type { SeenWindow } from './seen-window.ts';

export interface SeenRebuildOptions {
  kafka: Kafka;
  /** A topic the service itself produced, holding one record per id it recorded. */
  topic: string;
  log: LogSink;
  /** Only records newer than this (ms since epoch) are read: the window's age. */
  sinceMs: number;
  /** At most this many records are read, spread over the partitions (newest kept): bounds start-up. */
  maxRecords: number;
  /** The id a record stands for and when it was recorded, or undefined for records of other kinds. */
  pick(value: Buffer): { id: string; at: number } | undefined;
}

/**
 * Rebuilds a SeenWindow after a restart from what the service produced before it: reads the
 * recent part of `topic` (from the offset of `sinceMs`, and at most `maxRecords` back from the end
 * of each partition) up to the end as it was at start-up, and records every id in time order. A
 * request replayed by Kafka after a crash between produce and commit is then still known.
 */
export async function rebuildSeenWindow(window: SeenWindow, opts: SeenRebuildOptions): Promise<{ records: number; ids: number }> {
  const admin = opts.kafka.admin();
  await admin.connect();
  let ends: { partition: number; high: string; low: string }[];
  let starts: { partition: number; offset: string }[];
  try {
    ends = await retrying(() => admin.fetchTopicOffsets(opts.topic));
    starts = await retrying(() => admin.fetchTopicOffsetsByTimestamp(opts.topic, opts.sinceMs));
  } finally {
    await admin.disconnect();
  }
  const perPartition = Math.max(1, Math.ceil(opts.maxRecords / Math.max(1, ends.length)));
  // [from, to) per partition; empty ranges are skipped.
  const ranges = new Map<number, { from: bigint; to: bigint }>();
  for (const e of ends) {
    const high = BigInt(e.high);
    const byTime = BigInt(starts.find((s) => s.partition === e.partition)?.offset ?? e.high);
    const byCount = high - BigInt(perPartition);
    let from = byTime > byCount ? byTime : byCount;
    if (from < BigInt(e.low)) from = BigInt(e.low);
    if (from < high && from >= 0n) ranges.set(e.partition, { from, to: high });
  }
  if (ranges.size === 0) return { records: 0, ids: 0 };
  const found: { id: string; at: number }[] = [];
  let records = 0;
  const consumer = opts.kafka.consumer({ groupId: `seen-rebuild-${randomUUID()}`, maxBytesPerPartition: 4 * 1024 * 1024, minBytes: 512 * 1024, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: opts.topic, fromBeginning: true });
    const remaining = new Set(ranges.keys());
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const range = ranges.get(batch.partition);
        if (!range || !remaining.has(batch.partition)) return;
        for (const m of batch.messages) {
          const offset = BigInt(m.offset);
          if (offset < range.from || offset >= range.to) continue;
          records++;
          const hit = m.value ? opts.pick(m.value) : undefined;
          if (hit) found.push(hit);
        }
        const last = batch.messages.at(-1);
        if (last && BigInt(last.offset) + 1n >= range.to) {
          remaining.delete(batch.partition);
          if (remaining.size === 0) done();
        }
      },
    });
    for (const [partition, r] of ranges) consumer.seek({ topic: opts.topic, partition, offset: r.from.toString() });
    await finished;
  } finally {
    await consumer.disconnect();
  }
  found.sort((a, b) => a.at - b.at);
  for (const f of found) window.addAt(f.id, f.at);
  opts.log.info({ topic: opts.topic, records, ids: found.length, window: window.size }, 'dedupe window rebuilt from Kafka');
  return { records, ids: found.length };
}
