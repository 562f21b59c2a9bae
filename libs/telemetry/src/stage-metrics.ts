import type { Meter } from '@opentelemetry/api';

/** Standard instruments for a Kafka stage, as hooks the Stage calls. */
export function stageMetrics(meter: Meter, inFlight: () => number) {
  const consumed = meter.createCounter('mta_records_consumed', { description: 'Records consumed, by topic.' });
  const produced = meter.createCounter('mta_records_produced', { description: 'Records produced and acknowledged, by topic.' });
  const handlerErrors = meter.createCounter('mta_handler_errors', { description: 'Records whose handler threw (dead-lettered as internal_error).' });
  meter
    .createObservableGauge('mta_records_in_flight', { description: 'Records consumed whose outputs are not yet acknowledged.' })
    .addCallback((r) => r.observe(inFlight()));
  return {
    consumed: (topic: string, n: number) => consumed.add(n, { topic }),
    produced: (topic: string, n: number) => produced.add(n, { topic }),
    handlerError: () => handlerErrors.add(1),
  };
}
