import type { Meter } from '@opentelemetry/api';
import { attributeSet } from './attributes.ts';

/** What a running stage can tell about itself when metrics are collected. */
export interface StageGauges {
  /** Records consumed whose outputs are not yet acknowledged. */
  inFlight(): number;
  /** Age in seconds of the longest-held in-flight record (0 when none). */
  oldestInFlightSeconds(): number;
  /** Records after the last dispatched one, per assigned partition (from the fetch's high watermark). */
  lag(): Iterable<{ topic: string; partition: number; lag: number }>;
}

/** Standard instruments for a Kafka stage: hooks the Stage calls, gauges read from it. */
export function stageMetrics(meter: Meter, gauges: StageGauges) {
  const consumed = meter.createCounter('mta_records_consumed', { description: 'Records consumed, by topic.' });
  const produced = meter.createCounter('mta_records_produced', { description: 'Records produced and acknowledged, by topic.' });
  const handlerErrors = meter.createCounter('mta_handler_errors', { description: 'Records whose handler threw (dead-lettered as internal_error).' });
  meter
    .createObservableGauge('mta_records_in_flight', { description: 'Records consumed whose outputs are not yet acknowledged (same as mta_stage_inflight_records).' })
    .addCallback((r) => r.observe(gauges.inFlight()));
  meter
    .createObservableGauge('mta_stage_inflight_records', { description: 'Queue depth inside the stage: records being handled (waiting for a token, in SMTP, ...) or produced.' })
    .addCallback((r) => r.observe(gauges.inFlight()));
  meter
    .createObservableGauge('mta_stage_oldest_inflight_seconds', { description: 'How long the oldest record still in the stage has been there.', unit: 's' })
    .addCallback((r) => r.observe(gauges.oldestInFlightSeconds()));
  meter
    .createObservableGauge('mta_consumer_lag_records', { description: 'Records in the input topic not yet fetched by this instance, per partition.' })
    .addCallback((r) => {
      for (const l of gauges.lag()) r.observe(l.lag, { topic: l.topic, partition: String(l.partition) });
    });
  const topicAttrs = attributeSet('topic');
  return {
    consumed: (topic: string, n: number) => consumed.add(n, topicAttrs(topic)),
    produced: (topic: string, n: number) => produced.add(n, topicAttrs(topic)),
    handlerError: () => handlerErrors.add(1),
  };
}
