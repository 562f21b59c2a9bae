/**
 * The Kubernetes manifests (deploy/k8s), checked without a cluster: every document parses, each
 * service has a Deployment and a Service with probes on its health endpoints, resources, images
 * and ports that match the image, and every environment variable it is given is one its code
 * declares, with a value its configuration loader accepts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parseAllDocuments, parse } from 'yaml';
import { Job } from 'kubernetes-models/batch/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { loadConfig } from '@mta/config';
import { ROOT, SERVICES, type ServiceName } from '@mta/testkit';
import { inputTopicOf, serviceSpec, topicsJson, unknownEnv } from './support/service-config.ts';

type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; [k: string]: any };

const DIR = `${ROOT}deploy/k8s/`;
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();
const docs: (Doc & { file: string })[] = [];
for (const file of files) {
  if (file === 'kustomization.yaml') continue;
  for (const d of parseAllDocuments(readFileSync(DIR + file, 'utf8'))) {
    if (d.errors.length) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
    const value = d.toJS() as Doc | null;
    if (value) docs.push({ ...value, file });
  }
}
const kustomization = parse(readFileSync(`${DIR}kustomization.yaml`, 'utf8')) as { namespace: string; resources: string[]; images: { name: string; newTag: string }[] };
const find = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name);
const configMap = (name: string) => find('ConfigMap', name)?.data as Record<string, string> | undefined;
const deployment = (s: ServiceName) => find('Deployment', `mta-${s}`)!;
const containerOf = (s: ServiceName) => deployment(s).spec.template.spec.containers[0];
const topics = topicsJson();
const IMAGE = /^enhanced-mta\/([a-z-]+):(\d+\.\d+\.\d+)$/;

/** The environment a container starts with: envFrom ConfigMaps in order, then env (with $(VAR) and the pod name). */
function environmentOf(container: any): Map<string, string> {
  const env = new Map<string, string>();
  for (const from of container.envFrom ?? []) {
    assert.ok(from.configMapRef, `only ConfigMaps feed envFrom (secrets are mounted as files): ${JSON.stringify(from)}`);
    const data = configMap(from.configMapRef.name);
    assert.ok(data, `ConfigMap ${from.configMapRef.name} is declared`);
    for (const [k, v] of Object.entries(data)) env.set(k, String(v));
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom) {
      assert.equal(e.valueFrom.fieldRef?.fieldPath, 'metadata.name', `${e.name}: only the pod name comes from the downward API`);
      env.set(e.name, 'mta-sender-7d9f8b6c5-x2x4q');
    } else env.set(e.name, String(e.value).replace(/\$\((\w+)\)/g, (_, n: string) => env.get(n) ?? `$(${n})`));
  }
  return env;
}

test('every manifest parses, is in the kustomization, and lives in the mta namespace', () => {
  assert.deepEqual([...kustomization.resources].sort(), files.filter((f) => f !== 'kustomization.yaml'), 'kustomization.yaml lists every manifest');
  assert.equal(kustomization.namespace, 'mta');
  for (const d of docs) {
    assert.ok(d.apiVersion && d.kind && d.metadata?.name, `${d.file}: apiVersion, kind, metadata.name`);
    if (d.kind !== 'Namespace') assert.equal(d.metadata.namespace, 'mta', `${d.file} ${d.kind}/${d.metadata.name}`);
  }
  const kinds = docs.map((d) => `${d.kind}/${d.metadata.name}`);
  for (const s of SERVICES) for (const k of ['ConfigMap', 'Deployment', 'Service', 'PodDisruptionBudget']) assert.ok(kinds.includes(`${k}/mta-${s}`), `${k}/mta-${s}`);
});

/** Models generated from the Kubernetes OpenAPI schema: types, required fields, enums. */
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

test('every manifest is valid against the Kubernetes API schema', () => {
  for (const { file, ...d } of docs) {
    const Model = MODELS[`${d.apiVersion}/${d.kind}`];
    assert.ok(Model, `${file}: no schema for ${d.apiVersion} ${d.kind}`);
    assert.doesNotThrow(() => new Model(d).validate(), `${file}: ${d.kind}/${d.metadata.name}`);
  }
  // The check is not vacuous: a port given as a name where a number is required is refused.
  const broken = structuredClone(find('Deployment', 'mta-ingest')!) as any;
  delete broken.file;
  broken.spec.template.spec.containers[0].ports[0].containerPort = 'http';
  assert.throws(() => new Deployment(broken).validate(), /containerPort must be integer/);
});

test('each service: its own image, the HTTP port, probes on /readyz and /healthz, resources, non-root', () => {
  const tags = new Set<string>();
  for (const s of SERVICES) {
    const dep = deployment(s);
    const c = containerOf(s);
    assert.equal(dep.spec.template.spec.containers.length, 1, s);
    const m = IMAGE.exec(c.image);
    assert.ok(m, `${s}: image ${c.image}`);
    assert.equal(m[1], s, `${s} runs its own image`);
    tags.add(m[2]!);
    assert.ok(kustomization.images.some((i) => i.name === `enhanced-mta/${s}`), `${s} image can be retargeted by kustomize`);

    // The port the service listens on (MTA_HTTP_PORT) is the container port, the probes' and the Service's target.
    const env = environmentOf(c);
    assert.equal(env.get('MTA_HTTP_HOST'), '0.0.0.0', `${s} listens on the pod address`);
    const http = c.ports.find((p: any) => p.name === 'http');
    assert.equal(String(http?.containerPort), env.get('MTA_HTTP_PORT'), `${s}: containerPort = MTA_HTTP_PORT`);
    assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'http' }, `${s} readiness`);
    assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 'http' }, `${s} liveness`);
    const svc = find('Service', `mta-${s}`)!;
    assert.deepEqual(svc.spec.selector, dep.spec.selector.matchLabels, `${s}: Service selects the Deployment's pods`);
    assert.equal(svc.spec.ports[0].targetPort, 'http');
    for (const [k, v] of Object.entries(dep.spec.selector.matchLabels)) assert.equal(dep.spec.template.metadata.labels[k], v, `${s}: selector matches the pod labels`);
    assert.equal(dep.spec.template.metadata.annotations['prometheus.io/port'], env.get('MTA_HTTP_PORT'), `${s} scraped on its port`);
    const pdb = find('PodDisruptionBudget', `mta-${s}`)!;
    assert.deepEqual(pdb.spec.selector.matchLabels, dep.spec.selector.matchLabels);

    for (const r of ['cpu', 'memory']) {
      assert.ok(c.resources.requests[r], `${s}: ${r} request`);
      assert.ok(c.resources.limits[r], `${s}: ${r} limit`);
    }
    const pod = dep.spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true, `${s} non-root`);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);

    // SIGTERM drains for MTA_SHUTDOWN_TIMEOUT_MS; the kubelet must wait longer before SIGKILL.
    const drainMs = Number(env.get('MTA_SHUTDOWN_TIMEOUT_MS') ?? 15000);
    assert.ok(pod.terminationGracePeriodSeconds * 1000 > drainMs, `${s}: grace period ${pod.terminationGracePeriodSeconds}s > drain ${drainMs}ms`);
    assert.equal(dep.spec.strategy.rollingUpdate.maxUnavailable, 0, `${s}: a rollout waits for the new pod to be ready`);
  }
  assert.equal(tags.size, 1, `one release tag for all services: ${[...tags].join(', ')}`);
});

test('every environment variable is declared by the service and its value is accepted', async () => {
  for (const s of SERVICES) {
    const env = environmentOf(containerOf(s));
    assert.deepEqual(await unknownEnv(s, env.keys()), [], `${s}: variables no config key of the service declares`);
    const loaded = loadConfig(await serviceSpec(s), Object.fromEntries(env));
    assert.ok(loaded.ok, `${s}: ${loaded.ok ? '' : loaded.errors.join('\n')}`);
    if (s === 'sender' && loaded.ok) {
      const c = loaded.config as Record<string, unknown>;
      assert.ok((c.shutdownTimeoutMs as number) > (c.socketTimeoutMs as number), 'a draining sender waits out an SMTP socket timeout');
    }
  }
  // The topics Job gets the shared settings only.
  const job = find('Job', 'mta-topics')!;
  const env = environmentOf(job.spec.template.spec.containers[0]);
  assert.deepEqual(await unknownEnv('ingest', env.keys()), []);
});

test('a variable set in a manifest but declared nowhere fails the check', async () => {
  assert.deepEqual(await unknownEnv('ingest', ['KAFKA_BROKERS', 'MTA_MAX_IN_FLIGHT', 'MTA_MAX_INFLIGHT', 'OTEL_EXPORTER_OTLP_ENDPOINT']), ['MTA_MAX_INFLIGHT']);
  assert.deepEqual(await unknownEnv('ingest', ['MTA_DKIM_DIR']), ['MTA_DKIM_DIR'], 'a sender variable is unknown to ingest');
  assert.deepEqual(await unknownEnv('sender', ['MTA_DKIM_DIR', 'MTA_IP_POOLS']), [], 'the sender declares its DKIM and IP pool variables');
});

test('replicas and autoscaling stay within the partitions of each input topic', () => {
  const hpas = docs.filter((d) => d.kind === 'HorizontalPodAutoscaler');
  for (const s of SERVICES) {
    const input = topics.find((t) => t.id === inputTopicOf(s))!;
    const dep = deployment(s);
    assert.equal(dep.metadata.annotations?.['enhanced-mta/input-topic'], input.name, `${s} consumes ${input.name}`);
    assert.ok(dep.spec.replicas >= 1 && dep.spec.replicas <= input.partitions, `${s}: ${dep.spec.replicas} replicas for ${input.partitions} partitions`);
    const hpa = hpas.find((h) => h.spec.scaleTargetRef.name === `mta-${s}`);
    if (!hpa) continue;
    assert.equal(hpa.spec.scaleTargetRef.kind, 'Deployment');
    assert.ok(hpa.spec.maxReplicas <= input.partitions, `${s}: HPA max ${hpa.spec.maxReplicas} <= ${input.partitions} partitions of ${input.name}`);
    assert.ok(hpa.spec.minReplicas >= 1 && hpa.spec.minReplicas <= hpa.spec.maxReplicas);
    assert.equal(hpa.spec.metrics[0].resource.name, 'cpu');
  }
  // Autoscaled: the CPU-bound stages. Not: throttle (waits for tokens) and feedback (in-memory state).
  assert.deepEqual(hpas.map((h) => h.spec.scaleTargetRef.name).sort(), ['mta-bounce-classifier', 'mta-ingest', 'mta-sender']);
  for (const h of hpas) assert.ok(find('Deployment', h.spec.scaleTargetRef.name), `${h.metadata.name} targets a Deployment`);
});

test('the sender mounts one DKIM Secret per domain under MTA_DKIM_DIR, refreshable without restart', () => {
  const c = containerOf('sender');
  const dir = environmentOf(c).get('MTA_DKIM_DIR')!;
  assert.ok(dir?.startsWith('/'), 'MTA_DKIM_DIR is set');
  const volumes = deployment('sender').spec.template.spec.volumes as any[];
  const dkim = (c.volumeMounts as any[]).filter((m) => m.mountPath.startsWith(`${dir}/`));
  assert.ok(dkim.length >= 1, 'at least one signing domain');
  for (const m of dkim) {
    assert.match(m.mountPath.slice(dir.length + 1), /^[a-z0-9.-]+$/, 'mounted as MTA_DKIM_DIR/<domain>');
    assert.equal(m.subPath, undefined, 'no subPath: the kubelet updates the files in place on rotation');
    assert.equal(m.readOnly, true);
    const v = volumes.find((x) => x.name === m.name);
    assert.ok(v?.secret, `${m.name} is a Secret`);
    assert.ok(find('Secret', v.secret.secretName), `Secret ${v.secret.secretName} is declared`);
  }
  for (const d of docs.filter((x) => x.kind === 'Secret')) assert.deepEqual(d.data ?? {}, {}, `${d.metadata.name}: no key material in the repository`);
});

test('a Job creates the topics of deploy/topics.json with a script the image carries', () => {
  const job = find('Job', 'mta-topics')!;
  const c = job.spec.template.spec.containers[0];
  assert.ok(IMAGE.test(c.image), c.image);
  assert.deepEqual(c.command, ['node', 'deploy/docker/create-topics.mjs']);
  assert.deepEqual(c.args.slice(0, 2), ['--brokers', '$(KAFKA_BROKERS)']);
  assert.ok(Number(c.args[c.args.indexOf('--replication-factor') + 1]) >= 3, 'replicated topics');
  const dockerfile = readFileSync(`${ROOT}deploy/docker/Dockerfile`, 'utf8');
  assert.match(dockerfile, /^COPY deploy\/docker\/create-topics\.mjs /m);
  assert.match(dockerfile, /^COPY deploy\/topics\.json /m);
  assert.equal(job.spec.template.spec.securityContext.runAsNonRoot, true);
});
