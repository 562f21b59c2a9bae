import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tracesMode } from '../src/tracing.ts';

test('traces are exported only when configured', () => {
  const rows: [Record<string, string>, string][] = [
    [{}, 'none'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, 'otlp'],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }, 'otlp'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }, 'none'],
    [{ OTEL_TRACES_EXPORTER: 'otlp' }, 'otlp'],
    [{ OTEL_TRACES_EXPORTER: 'console' }, 'console'],
    [{ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, 'none'],
    [{ OTEL_TRACES_EXPORTER: 'OTLP,console' }, 'otlp'],
    [{ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, 'none'],
  ];
  for (const [env, want] of rows) assert.equal(tracesMode(env), want, JSON.stringify(env));
  assert.throws(() => tracesMode({ OTEL_TRACES_EXPORTER: 'zipkin' }), /OTEL_TRACES_EXPORTER="zipkin" is not one of otlp, console, none/);
});
