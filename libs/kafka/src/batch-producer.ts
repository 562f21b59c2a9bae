import { context, type Context } from '@opentelemetry/api';
import type { Producer, Message } from 'kafkajs';
import { traceHeaders } from './trace-context.ts';

export interface OutRecord {
  topic: string;
  key: string | null;
  value: Buffer | string;
  headers?: Record<string, string>;
}

export interface BatchProducerOptions {
  /** Flush when this many records are pending. */
  maxBatchRecords?: number;
  /** Flush when this many bytes are pending. */
  maxBatchBytes?: number;
  /** How long a record may wait for companions before the batch is sent. */
  lingerMs?: number;
  /** Concurrent sendBatch requests. */
  maxInFlightRequests?: number;
  onSent?: (topic: string, count: number) => void;
}

interface Pending {
  records: OutRecord[];
  bytes: number;
  waiters: { resolve: () => void; reject: (err: Error) => void }[];
}

/**
 * Groups records produced by many concurrent handlers into few `sendBatch` calls (acks = all).
 * `send` resolves once Kafka acknowledged the batch holding its records, which is when the caller
 * may consider the source record done and commit its offset.
 */
export class BatchProducer {
  private pending: Pending = { records: [], bytes: 0, waiters: [] };
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private queue: Pending[] = [];
  private readonly opts: Required<Omit<BatchProducerOptions, 'onSent'>> & Pick<BatchProducerOptions, 'onSent'>;

  constructor(private readonly producer: Producer, opts: BatchProducerOptions = {}) {
    this.opts = {
      maxBatchRecords: opts.maxBatchRecords ?? 2000,
      maxBatchBytes: opts.maxBatchBytes ?? 4 * 1024 * 1024,
      lingerMs: opts.lingerMs ?? 5,
      maxInFlightRequests: opts.maxInFlightRequests ?? 4,
      onSent: opts.onSent,
    };
  }

  /**
   * Queues `records` for the next batch. Each carries the W3C trace context of `ctx` (default:
   * the active context) in its `traceparent`/`tracestate` headers, replacing any it had, or the
   * given `trace` headers.
   */
  send(records: OutRecord[], ctx: Context = context.active(), trace: Record<string, string> | undefined = traceHeaders(ctx)): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const p = this.pending;
      for (const r of records) {
        p.records.push(trace ? { ...r, headers: { ...r.headers, ...trace } } : r);
        p.bytes += typeof r.value === 'string' ? Buffer.byteLength(r.value) : r.value.length;
      }
      p.waiters.push({ resolve, reject });
      if (p.records.length >= this.opts.maxBatchRecords || p.bytes >= this.opts.maxBatchBytes) this.cut();
      else if (!this.timer) this.timer = setTimeout(() => this.cut(), this.opts.lingerMs);
    });
  }

  /** Sends whatever is pending now and waits for every outstanding batch. */
  async flush(): Promise<void> {
    this.cut();
    while (this.inFlight > 0 || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private cut(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.records.length === 0) return;
    this.queue.push(this.pending);
    this.pending = { records: [], bytes: 0, waiters: [] };
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.opts.maxInFlightRequests && this.queue.length > 0) {
      const batch = this.queue.shift()!;
      this.inFlight++;
      this.sendOne(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async sendOne(batch: Pending): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const r of batch.records) {
      let list = byTopic.get(r.topic);
      if (!list) byTopic.set(r.topic, (list = []));
      list.push({ key: r.key, value: r.value, ...(r.headers ? { headers: r.headers } : {}) });
    }
    try {
      await this.producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
      if (this.opts.onSent) for (const [topic, messages] of byTopic) this.opts.onSent(topic, messages.length);
      for (const w of batch.waiters) w.resolve();
    } catch (err) {
      for (const w of batch.waiters) w.reject(err as Error);
    }
  }
}
