import { propagation, ROOT_CONTEXT, SpanKind, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { InRecord } from './in-record.ts';

/** Header names of the W3C trace context carried on every record. */
export const TRACE_HEADERS = ['traceparent', 'tracestate'] as const;

/**
 * Starts the consumer span of one record as a child of the trace context in its headers (a new
 * trace when there is none). Messaging semantic conventions: `process <topic>`, kind CONSUMER.
 * With no SDK registered this is the API's no-op span, which still carries the incoming span
 * context, so the trace passes through a service that exports nothing.
 */
export function startConsumerSpan(tracer: Tracer, rec: InRecord, groupId: string): { span: Span; ctx: Context } {
  const parent = rec.headers.traceparent === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, rec.headers);
  const span = tracer.startSpan(`process ${rec.topic}`, { kind: SpanKind.CONSUMER }, parent);
  if (span.isRecording()) {
    span.setAttributes({
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': rec.topic,
      'messaging.destination.partition.id': String(rec.partition),
      'messaging.consumer.group.name': groupId,
      'messaging.kafka.offset': Number(rec.offset),
      ...(rec.key ? { 'messaging.kafka.message.key': rec.key.toString('utf8') } : {}),
    });
  }
  return { span, ctx: trace.setSpan(parent, span) };
}

/** The `traceparent`/`tracestate` headers for records produced in `ctx`; undefined outside a trace. */
export function traceHeaders(ctx: Context): Record<string, string> | undefined {
  const sc = trace.getSpanContext(ctx);
  if (!sc || !trace.isSpanContextValid(sc)) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent === undefined ? undefined : carrier;
}

/**
 * Whether a tracing SDK is registered behind the API's global proxy provider (which has no
 * delegate tracer until one is). Checked once per Stage, at start.
 */
export function tracingActive(): boolean {
  const provider = trace.getTracerProvider() as { getDelegateTracer?: (name: string) => unknown };
  return typeof provider.getDelegateTracer !== 'function' || provider.getDelegateTracer('mta') !== undefined;
}

/**
 * Without an SDK, a record's trace context is copied unchanged onto what it produces (no parsing,
 * no span): turning tracing on in some services only still yields whole traces.
 */
export function passThroughHeaders(headers: Record<string, string>): Record<string, string> | undefined {
  const traceparent = headers.traceparent;
  if (traceparent === undefined) return undefined;
  const tracestate = headers.tracestate;
  return tracestate === undefined ? { traceparent } : { traceparent, tracestate };
}
