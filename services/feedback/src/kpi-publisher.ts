import { DeliveryKpisCodec } from '@mta/contracts';
import type { LogSink } from '@mta/kafka';
import type { Producer } from 'kafkajs';
import type { StatusView } from './view.ts';

/**
 * Publishes the snapshots of changed deliveries on the compacted KPI topic (key = deliveryId),
 * at most one per delivery per interval. Snapshots are derived from mta.status, so one lost in
 * a crash is published again after the rebuild; a failed produce marks the deliveries again.
 */
export function startKpiPublisher(opts: {
  producer: Producer;
  topic: string;
  view: StatusView;
  intervalMs: number;
  log: LogSink;
  onPublished?(n: number): void;
}): { flush(): Promise<void>; stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const flush = (): Promise<void> => {
    if (running) return running;
    const snapshots = opts.view.takeDirty();
    if (snapshots.length === 0) return Promise.resolve();
    running = opts.producer
      .send({
        topic: opts.topic,
        acks: -1,
        messages: snapshots.map((s) => ({ key: s.deliveryId, value: DeliveryKpisCodec.encode(s) })),
      })
      .then(() => opts.onPublished?.(snapshots.length))
      .catch((err: Error) => {
        opts.log.warn({ err: err.message, deliveries: snapshots.length }, 'KPI snapshots not published; will retry');
        opts.view.markDirty(snapshots.map((s) => s.deliveryId));
      })
      .finally(() => (running = undefined));
    return running;
  };
  const timer = setInterval(() => void flush(), opts.intervalMs);
  return {
    flush,
    async stop() {
      clearInterval(timer);
      if (running) await running;
      await flush();
    },
  };
}
