/**
 * docker-compose.yml, the Dockerfile and the observability configs, checked without a Docker
 * engine (none runs on the project's machines): structure, and consistency with the code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '@mta/config';
import { SERVICES, ROOT } from '@mta/testkit';
import { serviceSpec, unknownEnv } from './support/service-config.ts';

const compose = parse(readFileSync(`${ROOT}docker-compose.yml`, 'utf8'), { merge: true }) as { services: Record<string, any> };
const topics = (JSON.parse(readFileSync(`${ROOT}deploy/topics.json`, 'utf8')) as { topics: { name: string }[] }).topics;
const dockerfile = readFileSync(`${ROOT}deploy/docker/Dockerfile`, 'utf8');
const collector = parse(readFileSync(`${ROOT}deploy/otel/collector.yaml`, 'utf8')) as any;
const prometheus = parse(readFileSync(`${ROOT}deploy/prometheus/prometheus.yml`, 'utf8')) as any;
const alerts = parse(readFileSync(`${ROOT}deploy/prometheus/alerts.yml`, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };

test('docker-compose runs the official Kafka image and one container per service', () => {
  assert.match(compose.services.kafka.image, /^apache\/kafka:4\./);
  for (const s of SERVICES) {
    const svc = compose.services[s];
    assert.ok(svc, `service ${s} in docker-compose.yml`);
    assert.equal(svc.build.dockerfile, 'deploy/docker/Dockerfile');
    assert.equal(svc.build.args.SERVICE, s, `${s} builds its own image`);
    assert.equal(svc.environment.KAFKA_BROKERS, 'kafka:9092', `${s} uses the compose broker`);
    assert.ok(svc.healthcheck.test.join(' ').includes('/readyz'), `${s} health check uses /readyz`);
    assert.ok(svc.healthcheck.test.join(' ').includes(`:${svc.environment.MTA_HTTP_PORT}/`), `${s} health check on MTA_HTTP_PORT`);
    assert.equal(svc.depends_on['kafka-init'].condition, 'service_completed_successfully');
  }
});

test('docker-compose sets only variables the services declare, with accepted values', async () => {
  for (const s of SERVICES) {
    const env = compose.services[s].environment as Record<string, string>;
    assert.deepEqual(await unknownEnv(s, Object.keys(env)), [], `${s}: undeclared variables`);
    const loaded = loadConfig(await serviceSpec(s), env);
    assert.ok(loaded.ok, `${s}: ${loaded.ok ? '' : loaded.errors.join('; ')}`);
    const grace = Number(/^(\d+)s$/.exec(compose.services[s].stop_grace_period)?.[1]);
    if (loaded.ok) assert.ok(grace * 1000 > (loaded.config as { shutdownTimeoutMs: number }).shutdownTimeoutMs, `${s}: stop_grace_period outlasts the drain`);
  }
});

test('docker-compose creates every topic of deploy/topics.json', () => {
  const init = compose.services['kafka-init'];
  assert.deepEqual(init.command.slice(1, 3), ['deploy/kafka/local-kafka.mjs', 'topics']);
  assert.equal(init.depends_on.kafka.condition, 'service_healthy');
  const names = topics.map((t) => t.name);
  for (const t of ['mta.requests', 'mta.queue', 'mta.deliveries', 'mta.attempts', 'mta.events', 'mta.status', 'mta.dead-letter']) assert.ok(names.includes(t), t);
});

test('spans go from every service to the collector, and from there to Jaeger', () => {
  const otel = compose.services['otel-collector'];
  assert.match(otel.image, /^otel\/opentelemetry-collector-contrib:\d+\.\d+\.\d+$/);
  assert.ok(otel.volumes.some((v: string) => v.startsWith('./deploy/otel/collector.yaml:')), 'collector config mounted');
  const httpPort = collector.receivers.otlp.protocols.http.endpoint.split(':').pop();
  for (const s of SERVICES) assert.equal(compose.services[s].environment.OTEL_EXPORTER_OTLP_ENDPOINT, `http://otel-collector:${httpPort}`, s);
  const traces = collector.service.pipelines.traces;
  assert.deepEqual(traces.receivers, ['otlp']);
  for (const p of traces.processors) assert.ok(collector.processors[p], `processor ${p} defined`);
  for (const e of traces.exporters) assert.ok(collector.exporters[e], `exporter ${e} defined`);
  const jaegerHost = collector.exporters['otlp/jaeger'].endpoint.split(':')[0];
  assert.ok(compose.services[jaegerHost], `${jaegerHost} runs in compose`);
});

/** Metric names as Prometheus shows them, from every instrument created in libs/ and services/. */
function declaredMetrics(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name === 'dist' || name === 'test') continue;
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) {
        const src = readFileSync(p, 'utf8');
        for (const m of src.matchAll(/create(Counter|UpDownCounter|Histogram|Gauge|ObservableGauge|ObservableCounter|ObservableUpDownCounter)\(\s*'([a-z_]+)'/g)) {
          const [, kind, metric] = m as unknown as [string, string, string];
          if (kind === 'Counter' || kind === 'ObservableCounter') names.add(`${metric}_total`);
          else if (kind === 'Histogram') for (const x of ['_bucket', '_sum', '_count']) names.add(metric + x);
          else names.add(metric);
        }
      }
    }
  };
  walk(`${ROOT}libs`);
  walk(`${ROOT}services`);
  return names;
}

test('Prometheus scrapes every service, and every alert uses metrics the code exports', () => {
  const job = prometheus.scrape_configs.find((j: any) => j.job_name === 'mta');
  const targets = job.static_configs.map((c: any) => [c.targets[0], c.labels.service]);
  assert.deepEqual(targets, SERVICES.map((s) => [`${s}:${compose.services[s].environment.MTA_HTTP_PORT}`, s]));
  assert.equal(job.metrics_path, '/metrics');
  const mounted = compose.services.prometheus.volumes.map((v: string) => v.split(':')[1]);
  for (const f of [...prometheus.rule_files, '/etc/prometheus/prometheus.yml']) assert.ok(mounted.includes(f), `${f} mounted`);

  const known = declaredMetrics();
  assert.ok(known.has('mta_consumer_lag_records') && known.has('mta_records_produced_total'), 'the scan finds the stage metrics');
  const rules = alerts.groups.flatMap((g) => g.rules);
  assert.ok(rules.length >= 4);
  for (const r of rules) {
    const used = [...r.expr.matchAll(/\b(mta_[a-z_]+)/g)].map((m) => m[1]!);
    assert.ok(used.length > 0 || /\bup\{/.test(r.expr), `${r.alert} uses a metric`);
    for (const u of used) assert.ok(known.has(u), `${r.alert}: ${u} is exported by some service`);
  }
});

test('the Dockerfile builds any service in stages and runs it as a non-root user from its bundle', () => {
  const froms = [...dockerfile.matchAll(/^FROM (\S+)(?: AS (\w+))?$/gm)];
  assert.ok(froms.length >= 2, 'multi-stage');
  assert.equal(froms.at(-1)![2], undefined, 'the last stage is the image');
  assert.match(dockerfile, /^ARG NODE_IMAGE=node:20-[a-z]+-slim$/m);
  const final = dockerfile.slice(froms.at(-1)!.index);
  assert.match(final, /^USER node$/m, 'runs as the unprivileged node user');
  assert.doesNotMatch(final, /^COPY (libs|services|\.) /m, 'no sources copied into the image');
  assert.match(final, /^COPY --from=build \/out\/services \.\/services$/m, 'only the bundled service');
  assert.match(final, /^COPY --from=deps \/src\/node_modules \.\/node_modules$/m, 'production node_modules only');
  assert.match(dockerfile, /npm ci --omit=dev/);
  assert.match(final, /services\/\$\{SERVICE\}\/dist\/main\.mjs/, 'runs the esbuild bundle');
  const ignore = readFileSync(`${ROOT}deploy/docker/Dockerfile.dockerignore`, 'utf8');
  for (const p of ['**/node_modules', '**/dist', '.git']) assert.ok(ignore.split('\n').includes(p), `${p} kept out of the build context`);
});
