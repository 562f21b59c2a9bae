import { context, ROOT_CONTEXT, SpanStatusCode, trace, type Context, type Tracer } from '@opentelemetry/api';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import { BatchProducer, type OutRecord } from './batch-producer.ts';
import type { LogSink } from './client.ts';
import { ConsumerHealth } from './consumer-health.ts';
import { deadLetter } from './dead-letter.ts';
import { headersToStrings } from './headers.ts';
import type { InRecord } from './in-record.ts';
import { OffsetTracker } from './offset-tracker.ts';
import { passThroughHeaders, startConsumerSpan, tracingActive } from './trace-context.ts';

/**
 * What a stage does with one record: returns the records it produces (possibly none, possibly a
 * dead-letter record). It may take its time (a throttle waiting for a token, a sender talking
 * SMTP): other records keep flowing while it waits, up to `maxInFlight`.
 */
export type Handler = (rec: InRecord) => OutRecord[] | Promise<OutRecord[]>;

export interface StageHooks {
  consumed?(topic: string, count: number): void;
  produced?(topic: string, count: number): void;
  handlerError?(): void;
}

export interface StageOptions {
  service: string;
  kafka: Kafka;
  groupId: string;
  topics: string[];
  deadLetterTopic: string;
  handle: Handler;
  log: LogSink;
  /** Records being handled at once across partitions; the consumer waits beyond this. */
  maxInFlight?: number;
  commitIntervalMs?: number;
  partitionsConsumedConcurrently?: number;
  sessionTimeoutMs?: number;
  hooks?: StageHooks;
  /** Extra producer settings (batching). */
  lingerMs?: number;
  fromBeginning?: boolean;
  /**
   * Lanes (e.g. the throttle's recipient domain, the queue's key): at most `maxInFlightPerLane`
   * records of one lane are handled at once; more wait in memory (parked) so a slow lane never
   * holds up another. When `maxInFlight` records are held (handled + parked), a record of a full
   * lane goes back to the end of its topic instead (requeued, then committed) rather than
   * stopping consumption: a lane that is not full always gets its records dispatched.
   */
  laneOf?: (rec: InRecord) => string | undefined;
  maxInFlightPerLane?: number;
  /** Fetch sizing (defaults: 512 KiB or 100 ms, see the constructor). */
  fetchMinBytes?: number;
  fetchMaxWaitMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * One consume → handle → produce → commit loop, shared by every service.
 *
 * - Records are dispatched in offset order and handled concurrently; the fetch position advances
 *   as they are dispatched, so a slow record never blocks the ones behind it.
 * - An offset is committed only once every record before it has had its outputs acknowledged
 *   by Kafka (see OffsetTracker): at-least-once, never "held only in memory".
 * - A handler that throws dead-letters the record with `internal_error` instead of stopping
 *   the partition; a produce that fails is retried until it succeeds or the stage stops (then
 *   the record is not committed and will be read again).
 * - SIGTERM path (`stop`): stop fetching, let in-flight records finish (bounded), commit, leave.
 * - Tracing: each record is handled in a consumer span, child of the W3C trace context in its
 *   headers; every record it produces carries that span's context (see trace-context.ts).
 */
export class Stage {
  private consumer: Consumer;
  private producer: Producer;
  readonly out: BatchProducer;
  private tracker = new OffsetTracker();
  private inFlight = 0;
  private drainWaiters: (() => void)[] = [];
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> | undefined;
  private stopping = false;
  private readonly health: ConsumerHealth;
  private readonly maxInFlight: number;
  private readonly tracer: Tracer;
  /** False without a tracing SDK: trace headers are then copied through, no span is made. */
  private tracing = false;
  /** Dispatch time of each in-flight record, oldest first (a Map keeps insertion order). */
  /** In-flight records by dispatch order: when dispatched, and the record's Kafka timestamp. */
  private dispatchedAt = new Map<number, { at: number; produced: number }>();
  private dispatchSeq = 0;
  /** Per lane (when `laneOf` is set): records being handled and records parked behind them. */
  private lanes = new Map<string, { active: number; parked: (() => void)[] }>();
  private readonly perLane: number;
  /** Records handed back to their topic because their lane was full and the stage held maxInFlight. */
  requeued = 0;
  /** Per `topic:partition`: records after the last dispatched one, at the last fetch. */
  private lagByPartition = new Map<string, { topic: string; partition: number; lag: number }>();

  constructor(private readonly opts: StageOptions) {
    this.maxInFlight = opts.maxInFlight ?? 1000;
    this.perLane = Math.max(1, opts.maxInFlightPerLane ?? Math.ceil(this.maxInFlight / 10));
    this.tracer = trace.getTracer(`mta-${opts.service}`);
    this.consumer = opts.kafka.consumer({
      groupId: opts.groupId,
      sessionTimeout: opts.sessionTimeoutMs ?? 30000,
      heartbeatInterval: 3000,
      maxBytesPerPartition: 4 * 1024 * 1024,
      // Few, full fetches: a fetch waits for 512 KiB or 100 ms, so a stage fed a steady trickle
      // makes ~10 fetches a second instead of one per handful of records (each fetch costs the
      // broker and kafkajs a request/response round, whatever it carries). With the producer's
      // 50 ms linger this adds up to ~150 ms per hop at low rates; bench/stage-cost.ts measured
      // ~25 % less CPU per record than 16 KiB/50 ms/10 ms linger at 300 records/s of 5 KB
      // (medians of 4 rounds, docs/performance.md).
      minBytes: opts.fetchMinBytes ?? 512 * 1024,
      maxWaitTimeInMs: opts.fetchMaxWaitMs ?? 100,
      allowAutoTopicCreation: false,
    });
    this.producer = opts.kafka.producer({ allowAutoTopicCreation: false, maxInFlightRequests: 8 });
    this.out = new BatchProducer(this.producer, {
      lingerMs: opts.lingerMs ?? 50,
      onSent: (topic, n) => opts.hooks?.produced?.(topic, n),
    });
    this.health = new ConsumerHealth(this.consumer, opts.log, {}, () => {
      // A new generation: offsets are re-read from what was committed; records still in flight
      // from the previous generation finish into the old tracker and are never committed twice.
      this.tracker = new OffsetTracker();
      this.lagByPartition = new Map();
    });
  }

  /** Ready = connected, in the group, and consuming. */
  get ready(): boolean {
    return this.health.ok && !this.stopping;
  }

  get inFlightCount(): number {
    return this.inFlight;
  }

  /** Seconds the oldest in-flight record has spent in this stage (0 when none). */
  oldestInFlightSeconds(now = Date.now()): number {
    const first = this.dispatchedAt.values().next();
    return first.done ? 0 : (now - first.value.at) / 1000;
  }

  /**
   * Kafka timestamp (ms) of the oldest record in flight, i.e. when the oldest message this stage
   * holds was produced to its input topic; undefined when idle. For the watchdog gauge.
   */
  oldestInFlightProducedAt(): number | undefined {
    let min: number | undefined;
    for (const { produced } of this.dispatchedAt.values()) if (min === undefined || produced < min) min = produced;
    return min;
  }

  /** Records not yet fetched, per assigned partition (from the last fetch's high watermark). */
  consumerLag(): Iterable<{ topic: string; partition: number; lag: number }> {
    return this.lagByPartition.values();
  }

  async start(): Promise<void> {
    this.tracing = tracingActive();
    await this.producer.connect();
    await this.consumer.connect();
    for (const topic of this.opts.topics) await this.consumer.subscribe({ topic, fromBeginning: this.opts.fromBeginning ?? true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.opts.partitionsConsumedConcurrently ?? 3,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const tracker = this.tracker;
        this.opts.hooks?.consumed?.(batch.topic, batch.messages.length);
        const lag = { topic: batch.topic, partition: batch.partition, lag: Number(batch.highWatermark) - Number(batch.firstOffset() ?? batch.highWatermark) };
        this.lagByPartition.set(`${batch.topic}:${batch.partition}`, lag);
        // With lanes, consumption waits only at twice maxInFlight: records of lanes that are not
        // full (at most maxInFlightPerLane each) may exceed maxInFlight; full lanes requeue instead.
        const ceiling = this.opts.laneOf ? 2 * this.maxInFlight : this.maxInFlight;
        for (const m of batch.messages) {
          while (this.inFlight >= ceiling) {
            await Promise.race([new Promise<void>((r) => this.drainWaiters.push(r)), sleep(1000)]);
            await heartbeat();
            if (!isRunning() || isStale() || this.stopping) return;
          }
          if (!isRunning() || isStale() || this.stopping) return;
          const rec: InRecord = {
            topic: batch.topic,
            partition: batch.partition,
            offset: m.offset,
            key: m.key ?? null,
            value: m.value ?? null,
            headers: headersToStrings(m.headers),
            timestamp: m.timestamp,
          };
          const offset = BigInt(m.offset);
          tracker.dispatch(rec.topic, rec.partition, offset);
          this.inFlight++;
          const seq = this.dispatchSeq++;
          const now = Date.now();
          const produced = Number(m.timestamp);
          this.dispatchedAt.set(seq, { at: now, produced: Number.isFinite(produced) ? produced : now });
          resolveOffset(m.offset);
          lag.lag = Number(batch.highWatermark) - Number(m.offset) - 1;
          const finish = (done: boolean) => {
            if (done) tracker.finish(rec.topic, rec.partition, offset);
            this.inFlight--;
            this.dispatchedAt.delete(seq);
            const w = this.drainWaiters;
            this.drainWaiters = [];
            for (const r of w) r();
          };
          const lane = this.opts.laneOf?.(rec);
          if (lane === undefined) void this.process(rec).then(finish);
          else this.dispatchInLane(lane, rec, finish);
        }
        await heartbeat();
      },
    });
    this.commitTimer = setInterval(() => void this.commit(), this.opts.commitIntervalMs ?? 1000);
  }

  /** Handles `rec` now if its lane has room, parks it if the stage has room, else requeues it. */
  private dispatchInLane(key: string, rec: InRecord, finish: (done: boolean) => void): void {
    let lane = this.lanes.get(key);
    if (!lane) this.lanes.set(key, (lane = { active: 0, parked: [] }));
    const l = lane;
    const run = () => {
      l.active++;
      void this.process(rec).then((done) => {
        l.active--;
        const next = l.parked.shift();
        if (next) next();
        else if (l.active === 0) this.lanes.delete(key);
        finish(done);
      });
    };
    if (l.active < this.perLane) run();
    // inFlight already counts this record: park while the stage holds fewer than maxInFlight.
    else if (this.inFlight <= this.maxInFlight) l.parked.push(run);
    else {
      this.requeued++;
      const back: OutRecord = { topic: rec.topic, key: rec.key === null ? null : rec.key.toString('utf8'), value: rec.value ?? Buffer.alloc(0), headers: rec.headers };
      void this.produce([back], ROOT_CONTEXT).then(finish);
    }
  }

  /** Handles one record and produces its outputs; false if they could not be produced. */
  private async process(rec: InRecord): Promise<boolean> {
    if (!this.tracing) return this.handleAndProduce(rec, ROOT_CONTEXT, passThroughHeaders(rec.headers));
    const { span, ctx } = startConsumerSpan(this.tracer, rec, this.opts.groupId);
    try {
      return await context.with(ctx, () => this.handleAndProduce(rec, ctx));
    } finally {
      span.end();
    }
  }

  private async handleAndProduce(rec: InRecord, ctx: Context, traceHeaders?: Record<string, string>): Promise<boolean> {
    let outputs: OutRecord[];
    try {
      outputs = await this.opts.handle(rec);
    } catch (err) {
      const span = trace.getSpan(ctx);
      if (span?.isRecording()) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      }
      this.opts.hooks?.handlerError?.();
      this.opts.log.error({ err: (err as Error).stack, topic: rec.topic, partition: rec.partition, offset: rec.offset }, 'handler failed; record dead-lettered');
      outputs = [deadLetter(this.opts.deadLetterTopic, this.opts.service, rec, { code: 'internal_error', message: `${this.opts.service}: ${(err as Error).message}` })];
    }
    return this.produce(outputs, ctx, traceHeaders);
  }

  /** Produces `outputs` (retrying until acknowledged or stopping); false if they were not. */
  private async produce(outputs: OutRecord[], ctx: Context, traceHeaders?: Record<string, string>): Promise<boolean> {
    for (let delay = 100; ; delay = Math.min(delay * 2, 5000)) {
      try {
        await (traceHeaders ? this.out.send(outputs, ctx, traceHeaders) : this.out.send(outputs, ctx));
        return true;
      } catch (err) {
        this.opts.log.warn({ err: (err as Error).message, retryInMs: delay }, 'produce failed; retrying');
        if (this.stopping) return false;
        await sleep(delay);
      }
    }
  }

  /** Commits every partition's watermark; serialised so commits never overlap. */
  commit(): Promise<void> {
    if (this.committing) return this.committing;
    const tracker = this.tracker;
    const entries = tracker.committable();
    if (entries.length === 0) return Promise.resolve();
    this.committing = this.consumer
      .commitOffsets(entries.map((e) => ({ topic: e.topic, partition: e.partition, offset: e.offset.toString() })))
      .then(() => {
        for (const e of entries) tracker.markCommitted(e.topic, e.partition, e.offset);
      })
      .catch((err: Error) => this.opts.log.warn({ err: err.message }, 'offset commit failed; will retry'))
      .finally(() => (this.committing = undefined));
    return this.committing;
  }

  /** Graceful stop: no more fetching, finish in-flight work (bounded), commit, leave the group. */
  async stop(timeoutMs = 15000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    try {
      this.consumer.pause(this.opts.topics.map((topic) => ({ topic })));
    } catch {
      /* not running */
    }
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight > 0 && Date.now() < deadline) await sleep(20);
    if (this.inFlight > 0) this.opts.log.warn({ inFlight: this.inFlight }, 'shutdown timeout: unfinished records stay uncommitted and will be re-read');
    await this.out.flush();
    if (this.commitTimer) clearInterval(this.commitTimer);
    if (this.committing) await this.committing;
    await this.commit();
    await this.consumer.disconnect();
    await this.producer.disconnect();
  }
}
