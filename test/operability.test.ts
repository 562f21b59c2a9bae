/** What an SRE relies on before any mail flows: config errors at start-up, health and metrics. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { ROOT, SERVICES, startService } from '@mta/testkit';

test('every service refuses a bad configuration with one message per bad key and exit code 78', async () => {
  for (const name of SERVICES) {
    const child = spawn(process.execPath, [`services/${name}/dist/main.mjs`], {
      cwd: ROOT,
      env: { ...process.env, KAFKA_BROKERS: 'no-port-here', MTA_HTTP_PORT: 'eighty', LOG_LEVEL: 'loud' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (b) => (stderr += b));
    const [code] = await once(child, 'exit');
    assert.equal(code, 78, `${name}: ${stderr}`);
    assert.match(stderr, new RegExp(`^${name}: invalid configuration`), name);
    assert.match(stderr, /KAFKA_BROKERS="no-port-here" "no-port-here" is not host:port/, name);
    assert.match(stderr, /MTA_HTTP_PORT="eighty" must be an integer/, name);
    assert.match(stderr, /LOG_LEVEL="loud" must be one of/, name);
  }
});

test('health, readiness and Prometheus metrics', async () => {
  const svc = await startService('ingest', { KAFKA_BROKERS: process.env.KAFKA_BROKERS!, MTA_GROUP_ID: `ops-${Date.now()}` });
  try {
    const health = await fetch(`http://127.0.0.1:${svc.port}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok', service: 'ingest' });
    const ready = await fetch(`http://127.0.0.1:${svc.port}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { status: string }).status, 'ready');
    const metrics = await fetch(`http://127.0.0.1:${svc.port}/metrics`);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(await metrics.text(), /# TYPE mta_records_in_flight gauge/);
  } finally {
    assert.equal(await svc.stop(), 0, 'SIGTERM exits 0');
  }
});

test('readiness is 503 while Kafka cannot be reached', async () => {
  const child = spawn(process.execPath, ['services/feedback/dist/main.mjs'], {
    cwd: ROOT,
    env: { ...process.env, KAFKA_BROKERS: '127.0.0.1:1', MTA_HTTP_PORT: '0', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b) => (out += b));
  try {
    const deadline = Date.now() + 15000;
    let port: string | undefined;
    while (!port && Date.now() < deadline) {
      port = /"http":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(out)?.[1];
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(port, `feedback announced its HTTP port: ${out}`);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200, 'alive while not ready');
  } finally {
    child.kill('SIGKILL');
  }
});
