import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { createLogger, startTracing, withSpan } from '../src/index.ts';

test('a log line written inside a span carries its trace and span ids', async () => {
  const exporter = new InMemorySpanExporter();
  const tracing = startTracing('log-test', {}, { exporter });
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('log-test', 'info', { write: (s: string) => void lines.push(JSON.parse(s)) });
  log.info('outside');
  await withSpan('step', { n: 1 }, () => log.info('inside'));
  const failed = await withSpan('failing', {}, () => Promise.reject(new Error('nope'))).catch((e: Error) => e.message);
  assert.equal(failed, 'nope');
  const [span, failing] = exporter.getFinishedSpans();
  assert.equal(lines[0]!.trace_id, undefined);
  assert.equal(lines[1]!.trace_id, span!.spanContext().traceId);
  assert.equal(lines[1]!.span_id, span!.spanContext().spanId);
  assert.equal(span!.attributes.n, 1);
  assert.equal(failing!.status.code, 2, 'a throw marks the span as failed');
  assert.equal(failing!.events[0]?.name, 'exception');
  await tracing.shutdown();
});
