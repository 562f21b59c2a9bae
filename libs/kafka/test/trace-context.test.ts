import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trace } from '@opentelemetry/api';
import { startTracing } from '@mta/telemetry';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { passThroughHeaders, startConsumerSpan, traceHeaders, tracingActive } from '../src/trace-context.ts';

const rec = (headers: Record<string, string>) => ({ topic: 't', partition: 0, offset: '7', key: Buffer.from('k'), value: null, headers, timestamp: '0' });

test('with tracing off, the trace context passes through a stage unchanged and nothing is recorded', async () => {
  const tracing = startTracing('x', {}); // no exporter configured: propagation only
  assert.equal(tracing.mode, 'none');
  const tracer = trace.getTracer('t');
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const { span, ctx } = startConsumerSpan(tracer, rec({ traceparent, tracestate: 'a=b' }), 'g');
  assert.equal(span.isRecording(), false);
  assert.deepEqual(traceHeaders(ctx), { traceparent, tracestate: 'a=b' });
  const none = startConsumerSpan(tracer, rec({}), 'g');
  assert.equal(traceHeaders(none.ctx), undefined, 'no trace context, no headers');
  const bad = startConsumerSpan(tracer, rec({ traceparent: 'garbage' }), 'g');
  assert.equal(traceHeaders(bad.ctx), undefined, 'an invalid traceparent is dropped');
  await tracing.shutdown();
});

test('without an SDK a stage copies the trace headers through; with one it makes spans', async () => {
  assert.equal(tracingActive(), false, 'no SDK registered in this process yet');
  assert.deepEqual(passThroughHeaders({ traceparent: 'tp', tracestate: 'ts', other: 'x' }), { traceparent: 'tp', tracestate: 'ts' });
  assert.deepEqual(passThroughHeaders({ traceparent: 'tp' }), { traceparent: 'tp' });
  assert.equal(passThroughHeaders({ other: 'x' }), undefined);
  const tracing = startTracing('x', {}, { exporter: new InMemorySpanExporter() });
  assert.equal(tracingActive(), true);
  await tracing.shutdown();
  assert.equal(tracingActive(), false, 'and off again after shutdown');
});
