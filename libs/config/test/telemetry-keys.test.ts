import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commonKeys, loadConfig } from '../src/index.ts';

test('every service validates the standard OpenTelemetry variables at start-up', () => {
  const spec = commonKeys('ingest', 8081);
  const none = loadConfig(spec, {});
  assert.ok(none.ok);
  assert.equal(none.config.otelEndpoint, undefined, 'tracing is off unless configured');
  assert.equal(none.config.otelTracesExporter, undefined);
  const on = loadConfig(spec, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01', OTEL_BSP_SCHEDULE_DELAY: '200' });
  assert.ok(on.ok);
  assert.equal(on.config.otelTracesSampler, 'parentbased_traceidratio');
  assert.equal(on.config.otelBspScheduleDelay, 200);
  const bad = loadConfig(spec, { OTEL_TRACES_EXPORTER: 'zipkin', OTEL_TRACES_SAMPLER: 'sometimes', OTEL_BSP_MAX_QUEUE_SIZE: '0' });
  assert.equal(bad.ok, false);
  if (!bad.ok) {
    assert.equal(bad.errors.length, 3);
    assert.match(bad.errors[0]!, /^OTEL_TRACES_EXPORTER="zipkin" must be one of otlp, console, none/);
    assert.match(bad.errors[1]!, /^OTEL_TRACES_SAMPLER="sometimes" must be one of/);
    assert.match(bad.errors[2]!, /^OTEL_BSP_MAX_QUEUE_SIZE="0" must be between 1 and/);
  }
});
