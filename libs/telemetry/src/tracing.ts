import { propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

export type TracesMode = 'otlp' | 'console' | 'none';

type Env = Record<string, string | undefined>;

/**
 * Whether this process exports spans, from the standard OpenTelemetry variables:
 * `OTEL_TRACES_EXPORTER` when set (`otlp`, `console`, `none`); otherwise `otlp` as soon as an OTLP
 * endpoint is configured, and nothing at all when none is (a service stays silent by default).
 */
export function tracesMode(env: Env): TracesMode {
  const given = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return 'none';
  if (given) {
    const first = given.split(',')[0]!.trim();
    if (first === 'otlp' || first === 'console' || first === 'none') return first;
    throw new Error(`OTEL_TRACES_EXPORTER="${env.OTEL_TRACES_EXPORTER}" is not one of otlp, console, none`);
  }
  return env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() ? 'otlp' : 'none';
}

export interface Tracing {
  mode: TracesMode;
  /** Exports the spans still buffered; call on shutdown. */
  shutdown(): Promise<void>;
}

/**
 * Wires the tracing SDK for one service process (entry points only; libraries use the API).
 *
 * The W3C trace-context propagator is always installed, so `traceparent` headers pass through a
 * service unchanged even when it exports nothing. With a mode other than `none`, a tracer provider
 * with the AsyncLocalStorage context manager is registered: spans are batched and exported over
 * OTLP/HTTP (endpoint, headers, sampler and resource from the standard `OTEL_*` variables).
 * `exporter` replaces the configured one (tests: an in-memory exporter, exported synchronously).
 */
export function startTracing(service: string, env: Env = process.env, opts: { exporter?: SpanExporter } = {}): Tracing {
  const propagator = new W3CTraceContextPropagator();
  const mode = opts.exporter ? 'otlp' : tracesMode(env);
  if (mode === 'none') {
    propagation.setGlobalPropagator(propagator);
    return { mode, shutdown: async () => undefined };
  }
  const exporter = opts.exporter ?? (mode === 'console' ? new ConsoleSpanExporter() : new OTLPTraceExporter());
  const resource = resourceFromAttributes({ 'service.name': `mta-${service}`, 'service.namespace': 'mta' }).merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [opts.exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)],
  });
  provider.register({ propagator });
  return {
    mode,
    async shutdown() {
      await provider.shutdown();
      trace.disable();
    },
  };
}
