import { int, oneOf, optionalStr, type Key } from './keys.ts';

/**
 * The standard OpenTelemetry variables a service honours (read by the SDK itself, see
 * libs/telemetry/src/tracing.ts); declared here so they are validated at start-up and listed
 * with every service's configuration. Tracing is off unless an OTLP endpoint or
 * OTEL_TRACES_EXPORTER is set.
 */
export function telemetryKeys() {
  return {
    otelServiceName: optionalStr('OTEL_SERVICE_NAME', 'Service name on exported spans (default mta-<service>).'),
    otelResourceAttributes: optionalStr('OTEL_RESOURCE_ATTRIBUTES', 'Extra resource attributes on spans, key=value,... (e.g. deployment.environment=prod,k8s.pod.name=...).'),
    otelTracesExporter: optionalKey(oneOf('OTEL_TRACES_EXPORTER', 'Span exporter: otlp, console or none (default: otlp when an OTLP endpoint is set, else none).', ['otlp', 'console', 'none'] as const, 'none')),
    otelEndpoint: optionalStr('OTEL_EXPORTER_OTLP_ENDPOINT', 'OTLP/HTTP base URL of the collector, e.g. http://otel-collector:4318 (spans go to /v1/traces).'),
    otelTracesEndpoint: optionalStr('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'Full OTLP/HTTP URL for spans, overriding OTEL_EXPORTER_OTLP_ENDPOINT.'),
    otelHeaders: optionalStr('OTEL_EXPORTER_OTLP_HEADERS', 'Headers sent to the collector, key=value,... (e.g. authorization).'),
    otelTracesSampler: optionalKey(
      oneOf('OTEL_TRACES_SAMPLER', 'Sampler: parentbased_always_on (default), parentbased_traceidratio, always_on, always_off, traceidratio, parentbased_always_off.', ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const, 'parentbased_always_on'),
    ),
    otelTracesSamplerArg: optionalStr('OTEL_TRACES_SAMPLER_ARG', 'Sampling ratio for the *traceidratio samplers, 0..1 (e.g. 0.01 = one message in a hundred).'),
    otelBspScheduleDelay: optionalKey(int('OTEL_BSP_SCHEDULE_DELAY', 'Milliseconds between two exports of buffered spans (SDK default 5000).', undefined, 0)),
    otelBspMaxQueueSize: optionalKey(int('OTEL_BSP_MAX_QUEUE_SIZE', 'Spans buffered before new ones are dropped (SDK default 2048).', undefined, 1)),
    otelBspMaxExportBatchSize: optionalKey(int('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 'Spans per export request (SDK default 512).', undefined, 1)),
  };
}

/** `key` without its default: absent stays undefined (the SDK applies its own default). */
function optionalKey<T>(key: Key<T>): Key<T | undefined> {
  const { default: _default, ...rest } = key;
  return { ...rest, optional: true };
}
