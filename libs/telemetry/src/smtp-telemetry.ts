import { SpanStatusCode, trace, type Attributes, type Context, type Meter } from '@opentelemetry/api';
import { withSpan } from './span.ts';
import { attributeSet } from './attributes.ts';

/**
 * Steps of one SMTP delivery, each timed and traced on its own: `dns` (MX, MTA-STS), `send` (one
 * host: from handing the message to its pool to the final reply), and within `send` the
 * conversation: `connect` (TCP + greeting), `tls` (STARTTLS + handshake), `ehlo`, `mail`, `rcpt`,
 * `data` (DATA to the reply after the final dot).
 */
export type SmtpPhase = 'dns' | 'send' | 'connect' | 'tls' | 'ehlo' | 'mail' | 'rcpt' | 'data' | 'quit';

/** Seconds: from a local sink's milliseconds to a slow receiver's two-minute DATA timeout. */
export const SMTP_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** One SMTP command of a message, already finished (the sender's pool reports them from its transaction log). */
export interface SmtpCommandRecord {
  phase: SmtpPhase;
  /** The command without arguments (`MAIL FROM`, `RCPT TO`...), `CONNECT` for the greeting. */
  command: string;
  /** Epoch milliseconds (fractional). */
  start: number;
  end: number;
  code?: number | undefined;
  enhancedCode?: string | undefined;
  ok: boolean;
  /** The message's context: the span becomes a child of its active span. */
  ctx?: Context | undefined;
  site?: string | undefined;
}

export interface SmtpTelemetry {
  /**
   * Runs one SMTP step as a span named `smtp.<phase>` (child of the active span: the sender's
   * consumer span) and records its duration in `mta_smtp_phase_seconds{phase,site,outcome}`.
   */
  phase<T>(phase: SmtpPhase, site: string, fn: () => Promise<T> | T, attributes?: Attributes): Promise<T>;
  /**
   * Records one finished SMTP command: a span `smtp.<phase>` with its real start and end, child
   * of the span active in `ctx` (only when that span is recording: no SDK or not sampled = no
   * span), attributes `smtp.command`, `smtp.reply.code`, `smtp.reply.enhanced_code` (never an
   * address); and its duration in `mta_smtp_phase_seconds`.
   */
  command(c: SmtpCommandRecord): void;
  /** Counts one finished attempt in `mta_deliveries{site,source_ip,outcome}`. */
  delivery(site: string, sourceIp: string | undefined, outcome: string): void;
}

const tracer = trace.getTracer('mta');

/**
 * Instruments for the sender (metrics from `@opentelemetry/api` only). `site` is the receiving
 * site (provider or MX host), kept low-cardinality by the caller; `source_ip` is the local
 * address used (`default` when the OS chose it).
 */
export function smtpTelemetry(meter: Meter): SmtpTelemetry {
  const seconds = meter.createHistogram('mta_smtp_phase_seconds', {
    description: 'Duration of one SMTP step (dns, send; within send: connect, tls, ehlo, mail, rcpt, data), by site and outcome.',
    unit: 's',
    advice: { explicitBucketBoundaries: SMTP_SECONDS_BUCKETS },
  });
  const deliveries = meter.createCounter('mta_deliveries', { description: 'Delivery attempts, by receiving site, source IP and outcome.' });
  const phaseAttrs = attributeSet('phase', 'site', 'outcome');
  const deliveryAttrs = attributeSet('site', 'source_ip', 'outcome');
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
        seconds.record((performance.now() - t0) / 1000, phaseAttrs(phase, site, outcome));
      }
    },
    command(c) {
      const site = c.site ?? 'unknown';
      seconds.record(Math.max(0, c.end - c.start) / 1000, phaseAttrs(c.phase, site, c.ok ? 'ok' : 'error'));
      if (!c.ctx || !trace.getSpan(c.ctx)?.isRecording()) return;
      const attributes: Attributes = { 'smtp.command': c.command };
      if (c.code !== undefined) attributes['smtp.reply.code'] = c.code;
      if (c.enhancedCode !== undefined) attributes['smtp.reply.enhanced_code'] = c.enhancedCode;
      const span = tracer.startSpan(`smtp.${c.phase}`, { startTime: c.start, attributes }, c.ctx);
      if (!c.ok) span.setStatus({ code: SpanStatusCode.ERROR, message: c.code === undefined ? 'connection ended before a reply' : `reply ${c.code}` });
      span.end(c.end);
    },
    delivery(site, sourceIp, outcome) {
      deliveries.add(1, deliveryAttrs(site, sourceIp ?? 'default', outcome));
    },
  };
}
