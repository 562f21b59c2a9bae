import type { Attributes, Meter } from '@opentelemetry/api';
import { withSpan } from './span.ts';

/** Steps of one SMTP delivery, each timed and traced on its own. */
export type SmtpPhase = 'dns' | 'connect' | 'tls' | 'ehlo' | 'mail' | 'rcpt' | 'data' | 'quit';

/** Seconds: from a local sink's milliseconds to a slow receiver's two-minute DATA timeout. */
export const SMTP_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export interface SmtpTelemetry {
  /**
   * Runs one SMTP step as a span named `smtp.<phase>` (child of the active span: the sender's
   * consumer span) and records its duration in `mta_smtp_phase_seconds{phase,site,outcome}`.
   */
  phase<T>(phase: SmtpPhase, site: string, fn: () => Promise<T> | T, attributes?: Attributes): Promise<T>;
  /** Counts one finished attempt in `mta_deliveries{site,source_ip,outcome}`. */
  delivery(site: string, sourceIp: string | undefined, outcome: string): void;
}

/**
 * Instruments for the sender (metrics from `@opentelemetry/api` only). `site` is the receiving
 * site (provider or MX host), kept low-cardinality by the caller; `source_ip` is the local
 * address used (`default` when the OS chose it).
 */
export function smtpTelemetry(meter: Meter): SmtpTelemetry {
  const seconds = meter.createHistogram('mta_smtp_phase_seconds', {
    description: 'Duration of one SMTP step (dns, connect, tls, ehlo, mail, rcpt, data, quit), by site and outcome.',
    unit: 's',
    advice: { explicitBucketBoundaries: SMTP_SECONDS_BUCKETS },
  });
  const deliveries = meter.createCounter('mta_deliveries', { description: 'Delivery attempts, by receiving site, source IP and outcome.' });
  return {
    async phase(phase, site, fn, attributes = {}) {
      const t0 = performance.now();
      let outcome = 'ok';
      try {
        return await withSpan(`smtp.${phase}`, { 'mta.site': site, ...attributes }, () => fn());
      } catch (err) {
        outcome = 'error';
        throw err;
      } finally {
        seconds.record((performance.now() - t0) / 1000, { phase, site, outcome });
      }
    },
    delivery(site, sourceIp, outcome) {
      deliveries.add(1, { site, source_ip: sourceIp ?? 'default', outcome });
    },
  };
}
