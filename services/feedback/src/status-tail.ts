import { StatusRecordCodec, type StatusRecord } from '@mta/contracts';
import { retrying, type LogSink } from '@mta/kafka';
import type { Consumer, Kafka } from 'kafkajs';

export interface StatusTail {
  /** Resolves once every record that was on the topic at start has been applied. */
  caughtUp: Promise<void>;
  readonly isCaughtUp: boolean;
  stop(): Promise<void>;
}

/**
 * Reads `mta.status` from the beginning, then follows it, applying every record. It commits no
 * offsets (its consumer group is private to this process): the topic itself is the changelog
 * feedback rebuilds its state from after a restart, and nothing else is stored.
 */
export async function startStatusTail(opts: {
  kafka: Kafka;
  topic: string;
  groupId: string;
  log: LogSink;
  apply(r: StatusRecord): void;
  onMalformed?(): void;
}): Promise<StatusTail> {
  const admin = opts.kafka.admin();
  await admin.connect();
  // Retried while the broker is still loading a just-created partition.
  const offsets = await retrying(() => admin.fetchTopicOffsets(opts.topic)).finally(() => admin.disconnect());
  const remaining = new Map<number, bigint>();
  for (const p of offsets) if (BigInt(p.high) > BigInt(p.low)) remaining.set(p.partition, BigInt(p.high));
  let markCaughtUp!: () => void;
  const caughtUp = new Promise<void>((r) => (markCaughtUp = r));
  let isCaughtUp = false;
  const started = Date.now();
  let applied = 0;
  const check = () => {
    if (isCaughtUp || remaining.size > 0) return;
    isCaughtUp = true;
    opts.log.info({ topic: opts.topic, records: applied, ms: Date.now() - started }, 'state rebuilt from the status topic');
    markCaughtUp();
  };
  check();
  const consumer: Consumer = opts.kafka.consumer({
    groupId: opts.groupId,
    maxBytesPerPartition: 4 * 1024 * 1024,
    // A fetch waits for 512 KiB or 100 ms: with minBytes 1 a tail of a busy topic loops on
    // fetches of one or two records, which cost more than applying them.
    minBytes: 512 * 1024,
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: opts.topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch, heartbeat }) => {
      for (const m of batch.messages) {
        const decoded = StatusRecordCodec.decode(m.value ?? null);
        if (decoded.ok) opts.apply(decoded.value);
        else opts.onMalformed?.();
        applied++;
      }
      const last = batch.messages.at(-1);
      const target = remaining.get(batch.partition);
      if (last && target !== undefined && BigInt(last.offset) + 1n >= target) {
        remaining.delete(batch.partition);
        check();
      }
      await heartbeat();
    },
  });
  return {
    caughtUp,
    get isCaughtUp() {
      return isCaughtUp;
    },
    stop: () => consumer.disconnect(),
  };
}
