#!/usr/bin/env node
// `npm start`: the whole MTA on this machine. Starts a local Kafka (unless KAFKA_BROKERS names a
// cluster), a local mail sink standing in for the internet (unless MTA_ROUTES is set), and the five
// services as separate processes; prints where each listens and when the stack is ready.
// Ctrl-C (or SIGTERM) stops everything cleanly, broker included.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kafkaFromEnvOrStart } from '../deploy/kafka/local-kafka.mjs';
import { warmUpKafka } from './kafka-warm-up.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);
const SERVICES = [
  ['ingest', 8081],
  ['throttle', 8082],
  ['sender', 8083],
  ['bounce-classifier', 8084],
  ['feedback', 8085],
];
const say = (m) => console.log(`[mta] ${m}`);

await import('./build.mjs');

const dataDir = process.env.MTA_KAFKA_DATA_DIR ?? join(root, '.kafka', 'data');
mkdirSync(dataDir, { recursive: true });
const kafka = await kafkaFromEnvOrStart({ dataDir, port: Number(process.env.MTA_KAFKA_PORT ?? 9092), log: (m) => say(`kafka: ${m}`) });
say(`Kafka on ${kafka.brokers}${process.env.KAFKA_BROKERS ? ' (KAFKA_BROKERS)' : ` (local KRaft broker, data in ${dataDir})`}`);
// A broker that has just been formatted answers "coordinator loading" to the first consumer groups;
// loading the group coordinator once here keeps those errors (and a consumer restart) out of the
// services' first minute.
await warmUpKafka(kafka.brokers).catch((e) => say(`kafka warm-up skipped (${e.message}); the services retry on their own`));

let sinkChild;
const env = { ...process.env, KAFKA_BROKERS: kafka.brokers };
if (process.env.MTA_ROUTES === undefined) {
  const sinkPort = Number(process.env.MTA_SINK_PORT ?? 2525);
  sinkChild = spawn(process.execPath, ['--import', 'tsx', 'scripts/mail-sink.ts', String(sinkPort)], { stdio: ['ignore', 'inherit', 'inherit'] });
  env.MTA_ROUTES = `*=127.0.0.1:${sinkPort}`;
  // Every domain goes to the sink: the throttle keys its lanes by recipient domain, no MX lookups.
  env.MTA_THROTTLE_SITE ??= 'domain';
  say(`local mode: every domain is routed to the built-in mail sink on 127.0.0.1:${sinkPort} (set MTA_ROUTES to route elsewhere, MTA_ROUTES= to deliver by MX)`);
}

const children = SERVICES.map(([name, port]) => {
  const child = spawn(process.execPath, ['--enable-source-maps', `services/${name}/dist/main.mjs`], {
    env: { ...env, MTA_HTTP_PORT: String(port), LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `[${name}]`.padEnd(20);
  const relay = (stream, out) => {
    let buf = '';
    stream.on('data', (b) => {
      buf += b.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        out.write(`${prefix} ${buf.slice(0, i)}\n`);
        buf = buf.slice(i + 1);
      }
    });
  };
  relay(child.stdout, process.stdout);
  relay(child.stderr, process.stderr);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      say(`${name} exited (${code ?? signal}); stopping the stack`);
      void stop(1);
    }
  });
  return { name, port, child };
});

let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  say('stopping: services finish in-flight work and commit, then the broker stops');
  await Promise.all(
    children.map(
      ({ child }) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', resolve);
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 30000).unref();
        }),
    ),
  );
  sinkChild?.kill('SIGTERM');
  await kafka.stop();
  say('stopped');
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

// Wait for every /readyz.
const deadline = Date.now() + 120000;
const pending = new Set(children.map((c) => c.name));
while (pending.size && Date.now() < deadline && !stopping) {
  for (const c of children) {
    if (!pending.has(c.name)) continue;
    try {
      const res = await fetch(`http://127.0.0.1:${c.port}/readyz`);
      if (res.status === 200) pending.delete(c.name);
    } catch {
      /* not up yet */
    }
  }
  if (pending.size) await new Promise((r) => setTimeout(r, 300));
}
if (pending.size) {
  say(`not ready after 120 s: ${[...pending].join(', ')}`);
  await stop(1);
}
console.log('');
say('stack ready');
for (const c of children) say(`  ${c.name.padEnd(18)} http://127.0.0.1:${c.port}  (/healthz /readyz /metrics)`);
say(`  Campaign → ${process.env.MTA_TOPIC_REQUESTS ?? 'mta.requests'}   statuses ← ${process.env.MTA_TOPIC_STATUS ?? 'mta.status'}   dead letters ← ${process.env.MTA_TOPIC_DEAD_LETTER ?? 'mta.dead-letter'}`);
say('  try: echo \'m1|{"messageId":"m1","deliveryId":"d1","from":"news@brand.example","to":"alice@example.com","subject":"Hi","text":"Hello"}\' | kcat -P -b ' + kafka.brokers + " -t mta.requests -K'|'");
say('       kcat -C -b ' + kafka.brokers + ' -t mta.status -o beginning');
say('Ctrl-C stops everything.');
