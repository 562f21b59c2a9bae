import { metrics, type Meter } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { patchAttributeHash } from './attributes.ts';

export interface Metrics {
  meter: Meter;
  /** Prometheus text exposition of every instrument. */
  render(): Promise<string>;
  shutdown(): Promise<void>;
}

/**
 * Wires the OpenTelemetry metrics SDK for one service process: instruments are created through
 * `@opentelemetry/api` and read by a Prometheus reader that serves `/metrics` (no own server).
 */
export function createMetrics(service: string): Metrics {
  patchAttributeHash(); // before the provider builds its attribute maps (attributes.ts)
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [exporter], resource: resourceFromAttributes({ 'service.name': `mta-${service}`, 'service.namespace': 'mta' }) });
  metrics.setGlobalMeterProvider(provider);
  const serializer = new PrometheusSerializer();
  return {
    meter: provider.getMeter(`mta-${service}`),
    async render() {
      const { resourceMetrics, errors } = await exporter.collect();
      if (errors.length) throw new Error(errors.map(String).join('; '));
      return serializer.serialize(resourceMetrics);
    },
    shutdown: () => provider.shutdown(),
  };
}
