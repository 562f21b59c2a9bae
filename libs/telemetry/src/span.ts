import { SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';

const tracer = trace.getTracer('mta');

/**
 * Runs `fn` inside a child span of the active one (e.g. one SMTP step of a delivery) and ends
 * it when `fn` settles; a throw marks the span as failed and is re-thrown. With no SDK
 * registered the span is the API's no-op span: no recording, no export.
 */
export function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T> | T): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      if (span.isRecording()) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message ?? String(err) });
      }
      throw err;
    } finally {
      span.end();
    }
  });
}
