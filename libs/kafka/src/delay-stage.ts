import type { Consumer, Kafka, Producer } from 'kafkajs';
import { BatchProducer, type OutRecord } from './batch-producer.ts';
import type { LogSink } from './client.ts';
import { ConsumerHealth } from './consumer-health.ts';
import { deadLetter } from './dead-letter.ts';
import { headersToStrings } from './headers.ts';
import type { InRecord } from './in-record.ts';
import type { StageHooks } from './stage.ts';

export interface DelayStageOptions {
  service: string;
  /** Short name for logs and metrics, e.g. `retry`. */
  name: string;
  kafka: Kafka;
  groupId: string;
  /** Delay topics; in each partition, records must come in release order (a fixed delay per topic). */
  topics: string[];
  deadLetterTopic: string;
  log: LogSink;
  /** Not before this time (ms since epoch) may the record be handled. */
  notBefore(rec: InRecord): number;
  /** What to produce for a record once it is due. */
  handle(rec: InRecord): OutRecord[] | Promise<OutRecord[]>;
  now?: () => number;
  partitionsConsumedConcurrently?: number;
  hooks?: StageHooks;
}

/** A partition whose head is not due yet: paused, with a timer to resume it. */
export interface HeldPartition {
  topic: string;
  partition: number;
  offset: string;
  /** Kafka timestamp of the head record (ms since epoch). */
  timestamp: number;
  notBefore: number;
}

const MAX_TIMER_MS = 3_600_000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Consumes delay topics without holding messages in memory: each partition is read up to its
 * first record that is not due yet; that partition is then paused (its fetch position left on the
 * record) and resumed when the record is due, while other partitions keep flowing. Records that
 * are due are handled, their outputs produced (acks = all), and only then is the offset committed
 * (at-least-once; a crash re-reads from the first record whose outputs were not acknowledged).
 * So a crash or restart loses nothing: a waiting message is an uncommitted record on Kafka.
 */
export class DelayStage {
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly out: BatchProducer;
  private readonly now: () => number;
  private readonly held = new Map<string, HeldPartition & { timer: NodeJS.Timeout }>();
  private inFlight = 0;
  private stopping = false;
  private readonly health: ConsumerHealth;

  constructor(private readonly opts: DelayStageOptions) {
    this.now = opts.now ?? Date.now;
    this.consumer = opts.kafka.consumer({
      groupId: opts.groupId,
      sessionTimeout: 30000,
      heartbeatInterval: 3000,
      maxBytesPerPartition: 4 * 1024 * 1024,
      // Delay topics are mostly empty, and what they hold waits seconds to hours: an empty fetch
      // every 500 ms instead of every 100 ms (five times fewer idle fetch rounds for kafkajs and
      // the broker) costs at most 0.4 s more on a retry scheduled minutes ahead.
      maxWaitTimeInMs: 500,
      allowAutoTopicCreation: false,
    });
    this.producer = opts.kafka.producer({ allowAutoTopicCreation: false, maxInFlightRequests: 8 });
    this.out = new BatchProducer(this.producer, { lingerMs: 5, onSent: (topic, n) => opts.hooks?.produced?.(topic, n) });
    // A new assignment: forget held heads (they may belong to another member now); the
    // partitions we keep are fetched again from their committed offsets and re-held.
    this.health = new ConsumerHealth(this.consumer, opts.log, { stage: opts.name }, () => this.releaseAll());
  }

  get ready(): boolean {
    return this.health.ok && !this.stopping;
  }

  get inFlightCount(): number {
    return this.inFlight;
  }

  /** Partitions waiting for their head record, for the watchdog metrics. */
  heldPartitions(): HeldPartition[] {
    return [...this.held.values()].map(({ timer: _t, ...h }) => h);
  }

  /** Kafka timestamp (ms since epoch) of the oldest head being held, for the watchdog gauge. */
  oldest(): number | undefined {
    let min: number | undefined;
    for (const h of this.held.values()) if (min === undefined || h.timestamp < min) min = h.timestamp;
    return min;
  }

  /** How late (ms) the most overdue held head is past its release time; 0 when none is. */
  overdueMs(): number {
    const t = this.now();
    let max = 0;
    for (const h of this.held.values()) max = Math.max(max, t - h.notBefore);
    return max;
  }

  async start(): Promise<void> {
    await this.producer.connect();
    await this.consumer.connect();
    for (const topic of this.opts.topics) await this.consumer.subscribe({ topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.opts.partitionsConsumedConcurrently ?? 6,
      eachBatch: async ({ batch, resolveOffset, heartbeat, pause, isRunning, isStale, commitOffsetsIfNecessary }) => {
        const { topic, partition } = batch;
        this.opts.hooks?.consumed?.(topic, batch.messages.length);
        const pending: Promise<boolean>[] = [];
        let last: string | undefined;
        for (const m of batch.messages) {
          if (!isRunning() || isStale() || this.stopping) break;
          const rec: InRecord = {
            topic,
            partition,
            offset: m.offset,
            key: m.key ?? null,
            value: m.value ?? null,
            headers: headersToStrings(m.headers),
            timestamp: m.timestamp,
          };
          const notBefore = this.opts.notBefore(rec);
          if (notBefore > this.now()) {
            this.hold(rec, notBefore, pause());
            break;
          }
          this.inFlight++;
          pending.push(this.process(rec).finally(() => this.inFlight--));
          last = m.offset;
        }
        if (last === undefined) return;
        const done = await Promise.all(pending);
        if (!done.every(Boolean)) return; // stopping: not committed, read again after restart
        resolveOffset(last);
        const offset = (BigInt(last) + 1n).toString();
        try {
          await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset }] }] });
        } catch (err) {
          this.opts.log.warn({ stage: this.opts.name, topic, partition, offset, err: (err as Error).message }, 'delay stage commit failed; records may be read again');
        }
        await heartbeat();
      },
    });
  }

  private hold(rec: InRecord, notBefore: number, resume: () => void): void {
    const id = `${rec.topic}\u0000${rec.partition}`;
    const prev = this.held.get(id);
    if (prev) clearTimeout(prev.timer);
    const wait = Math.min(Math.max(notBefore - this.now(), 0), MAX_TIMER_MS);
    const timer = setTimeout(() => {
      this.held.delete(id);
      if (!this.stopping) resume();
    }, wait);
    this.held.set(id, { topic: rec.topic, partition: rec.partition, offset: rec.offset, timestamp: Number(rec.timestamp), notBefore, timer });
  }

  private releaseAll(): void {
    const parts = [...this.held.values()];
    this.held.clear();
    for (const h of parts) clearTimeout(h.timer);
    if (parts.length > 0 && !this.stopping) this.consumer.resume(parts.map((h) => ({ topic: h.topic, partitions: [h.partition] })));
  }

  private async process(rec: InRecord): Promise<boolean> {
    let outputs: OutRecord[];
    try {
      outputs = await this.opts.handle(rec);
    } catch (err) {
      this.opts.hooks?.handlerError?.();
      this.opts.log.error({ stage: this.opts.name, err: (err as Error).stack, topic: rec.topic, offset: rec.offset }, 'delay handler failed; record dead-lettered');
      outputs = [deadLetter(this.opts.deadLetterTopic, this.opts.service, rec, { code: 'internal_error', message: `${this.opts.service} ${this.opts.name}: ${(err as Error).message}` })];
    }
    for (let delay = 100; ; delay = Math.min(delay * 2, 5000)) {
      try {
        await this.out.send(outputs);
        return true;
      } catch (err) {
        this.opts.log.warn({ stage: this.opts.name, err: (err as Error).message, retryInMs: delay }, 'produce failed; retrying');
        if (this.stopping) return false;
        await sleep(delay);
      }
    }
  }

  async stop(timeoutMs = 15000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const h of this.held.values()) clearTimeout(h.timer);
    this.held.clear();
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight > 0 && Date.now() < deadline) await sleep(20);
    await this.out.flush();
    await this.consumer.disconnect();
    await this.producer.disconnect();
  }
}
