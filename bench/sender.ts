/**
 * `npm run bench:sender`: the sender's per-message path alone (no Kafka), in one process, against
 * Postfix's smtp-sink, each variant measured in this invocation so they compare as ratios:
 *
 * - `nodemailer pool, mail options`: nodemailer's own pool fed structured mail (bench/e2e.ts's baseline);
 * - `nodemailer pool, raw`: nodemailer's pool fed finished bytes with a deadline signal (the sender's
 *   transport before it had its own pool);
 * - `TransportCache, raw`: the sender's pool (`services/sender/src/smtp-pool.ts`) fed the same bytes;
 * - `before (b4949b5)`: the attempt as the sender made it before (`bench/sender-legacy.ts`: full
 *   MailComposer build, mailauth's stream signer, nodemailer's pool) / `deliver()`: the attempt now
 *   (compose, DKIM when on, the sender's pool);
 * - the same with an RSA-2048 DKIM signature on every message;
 * - `deliver()` with tracing on (every span recorded, then dropped): the per-command spans' cost.
 *
 * Prints CPU milliseconds per message of this process (smtp-sink runs apart) and messages/s, and
 * writes JSON under bench/results. BENCH_PROFILE_DIR=/tmp/p writes a V8 CPU profile per variant
 * and prints the heaviest packages and functions of each.
 *
 *   BENCH_SENDER_MESSAGES=5000 npm run bench:sender
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Delivery } from '@mta/contracts';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { createMetrics, smtpTelemetry, startTracing } from '@mta/telemetry';
import { ROOT, startPostfixSink } from '@mta/testkit';
import { compose, messageBytes } from '../services/sender/src/compose.ts';
import { createDeliver, type DeliverDeps } from '../services/sender/src/deliver.ts';
import { createDkimSigner } from '../services/sender/src/dkim.ts';
import { parseRoutes } from '../services/sender/src/routes.ts';
import { TransportCache, type PoolMessage } from '../services/sender/src/transports.ts';
import type { DkimSignature } from '../services/sender/src/dkim-sign.ts';
import { summarizeProfile } from './profile.ts';
import { legacyDeliver } from './sender-legacy.ts';

const N = Number(process.env.BENCH_SENDER_MESSAGES ?? 5000);
const WARMUP = Math.min(500, N);
const CONCURRENCY = 200;
const LIMITS = { maxConnections: 10, messagesPerConnection: 100 };
const BODY = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(Math.ceil(5000 / 57)).slice(0, 5000);
const ONLY = process.env.BENCH_SENDER_ONLY ? new RegExp(process.env.BENCH_SENDER_ONLY) : undefined;
const log = (m: string) => console.log(`[bench:sender] ${m}`);

const delivery = (i: number, run: string): Delivery => ({
  v: 1,
  messageId: `bench-${run}-${i}`,
  deliveryId: `bench-${run}`,
  from: 'Brand <news@brand.example>',
  mailFrom: 'bounce@brand.example',
  to: `user${i}@d${i % 20}.bench.test`,
  recipientDomain: `d${i % 20}.bench.test`,
  content: { kind: 'structured', subject: `Bench message ${i}`, text: BODY },
  acceptedAt: new Date().toISOString(),
  validUntil: new Date(Date.now() + 86_400_000).toISOString(),
  attempt: 1,
  releasedAt: new Date().toISOString(),
  limits: LIMITS,
});

/** Runs `send(i)` for i in [0, n) with CONCURRENCY in flight. */
async function drive(n: number, send: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await send(next++);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

interface Result {
  variant: string;
  cpuMsPerMessage: number;
  messagesPerSecond: number;
  profile?: ReturnType<typeof summarizeProfile>;
}

async function measure(variant: string, run: (n: number, offset: number) => Promise<void>, profileDir: string | undefined, session: Session): Promise<Result | undefined> {
  if (ONLY && !ONLY.test(variant)) return undefined;
  await run(WARMUP, 1_000_000);
  if (profileDir) await session.post('Profiler.start');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run(N, 0);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const r: Result = { variant, cpuMsPerMessage: +((cpu.user + cpu.system) / 1000 / N).toFixed(3), messagesPerSecond: Math.round(N / seconds) };
  if (profileDir) {
    const { profile } = await session.post('Profiler.stop');
    const file = join(profileDir, `${variant.replace(/[^a-z0-9]+/gi, '-')}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    r.profile = summarizeProfile(file, 10);
  }
  log(`${variant.padEnd(44)} ${r.cpuMsPerMessage.toFixed(3)} CPU ms/msg  ${r.messagesPerSecond} msg/s`);
  return r;
}

async function main() {
  const sink = await startPostfixSink();
  log(`sink: Postfix smtp-sink on 127.0.0.1:${sink.port}; ${N} messages per variant, ${CONCURRENCY} in flight, ${LIMITS.maxConnections} connections`);
  const dir = mkdtempSync(join(tmpdir(), 'mta-bench-sender-'));
  const dkimDir = join(dir, 'dkim');
  mkdirSync(join(dkimDir, 'brand.example'), { recursive: true });
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dkimDir, 'brand.example', 's2048.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const profileDir = process.env.BENCH_PROFILE_DIR;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const session = new Session();
  session.connect();
  if (profileDir) await session.post('Profiler.enable');

  // As main.ts wires it: step spans (no tracing SDK: no-op spans) and latency histograms.
  const tel = smtpTelemetry(createMetrics('bench-sender').meter);
  const routes = parseRoutes(`*=127.0.0.1:${sink.port}`);
  if (!routes.ok) throw new Error('routes');
  const cacheOpts = { ehloName: 'bench.test', tls: 'none' as const, connectionTimeoutMs: 10_000, greetingTimeoutMs: 10_000, socketTimeoutMs: 60_000, messageTimeoutMs: 300_000 };
  const nodemailerPool = () =>
    nodemailer.createTransport({ pool: true, host: '127.0.0.1', port: sink.port, maxConnections: LIMITS.maxConnections, maxMessages: LIMITS.messagesPerConnection, ignoreTLS: true, secure: false });
  const composeOpts = { idDomain: 'bench.test', bounceDomain: undefined };
  const rawOf = async (i: number): Promise<PoolMessage> => {
    const c = compose(delivery(i, 'raw'), composeOpts);
    return { envelope: { from: c.envelope.from, to: c.envelope.to }, raw: await messageBytes(c) };
  };
  const prebuilt = await Promise.all(Array.from({ length: 1000 }, (_, i) => rawOf(i)));
  const target = { host: '127.0.0.1', port: sink.port, maxConnections: LIMITS.maxConnections, maxMessages: LIMITS.messagesPerConnection };
  const results: Result[] = [];
  const push = (r: Result | undefined) => r && results.push(r);

  {
    const t = nodemailerPool();
    push(
      await measure('nodemailer pool, mail options', (n, o) => drive(n, (i) => t.sendMail({ from: 'Brand <news@brand.example>', to: `user${i + o}@d${i % 20}.bench.test`, subject: `Bench message ${i}`, text: BODY })), profileDir, session),
    );
    t.close();
  }
  {
    const t = nodemailerPool();
    push(await measure('nodemailer pool, raw', (n) => drive(n, (i) => t.sendMail({ envelope: { ...prebuilt[i % prebuilt.length]!.envelope }, raw: prebuilt[i % prebuilt.length]!.raw, signal: AbortSignal.timeout(300_000) })), profileDir, session));
    t.close();
  }
  {
    const cache = new TransportCache(cacheOpts);
    push(await measure('TransportCache, raw', (n) => drive(n, (i) => cache.send(target, prebuilt[i % prebuilt.length]!)), profileDir, session));
    await cache.closeAll();
  }
  {
    const cache = new TransportCache({ ...cacheOpts, observer: (c) => tel.command(c) });
    push(await measure('TransportCache, raw, command observer', (n) => drive(n, (i) => cache.send(target, prebuilt[i % prebuilt.length]!)), profileDir, session));
    await cache.closeAll();
  }
  const dkim = createDkimSigner({ dir: dkimDir, refreshMs: 60_000 });
  const legacyKeys: DkimSignature[] = [{ domain: 'brand.example', selector: 's2048', type: 'rsa', key: privateKey }];
  for (const withDkim of [false, true]) {
    const suffix = withDkim ? ', DKIM RSA-2048' : '';
    const deps = (transports: DeliverDeps['transports']): DeliverDeps => ({
      mx: { mx: async () => ({ ok: false, kind: 'servfail', permanent: false, message: 'unused' }), addresses: async () => ({ ok: false, kind: 'servfail', permanent: false, message: 'unused' }) } as unknown as DeliverDeps['mx'],
      transports,
      routes: routes.routes,
      idDomain: 'bench.test',
      step: (phase, site, fn, attributes) => tel.phase(phase, site, fn, attributes),
      ...(withDkim ? { dkim } : {}),
    });
    {
      const t = nodemailerPool();
      const legacy = legacyDeliver(t, withDkim ? legacyKeys : undefined, 300_000);
      push(await measure(`before (b4949b5): compose, sign, nodemailer pool${suffix}`, (n, o) => drive(n, (i) => tel.phase('send', 'bench', () => legacy(delivery(i + o, 'old')))), profileDir, session));
      t.close();
    }
    {
      const cache = new TransportCache({ ...cacheOpts, observer: (c) => tel.command(c) });
      const deliver = createDeliver(deps(cache));
      push(await measure(`deliver()${suffix}`, (n, o) => drive(n, (i) => deliver(delivery(i + o, 'new'))), profileDir, session));
      await cache.closeAll();
    }
  }
  {
    // Tracing on, every span recorded and handed to an exporter that drops it: the cost of the
    // per-command spans (connect, ehlo, mail, rcpt, data) and the step spans, against `deliver()`.
    const drop: SpanExporter = { export: (_s: ReadableSpan[], done: (r: ExportResult) => void) => done({ code: 0 }), shutdown: async () => undefined };
    const tracing = startTracing('bench-sender', {}, { exporter: drop });
    const cache = new TransportCache({ ...cacheOpts, observer: (c) => tel.command(c) });
    const deliver = createDeliver({
      mx: undefined as unknown as DeliverDeps['mx'],
      transports: cache,
      routes: routes.routes,
      idDomain: 'bench.test',
      step: (phase, site, fn, attributes) => tel.phase(phase, site, fn, attributes),
    });
    push(await measure('deliver(), tracing on (spans recorded, dropped)', (n, o) => drive(n, (i) => deliver(delivery(i + o, 'traced'))), profileDir, session));
    await cache.closeAll();
    await tracing.shutdown();
  }
  session.disconnect();
  await sink.close();

  const base = results.find((r) => r.variant === 'nodemailer pool, mail options');
  const out = {
    benchmark: 'sender: per-message path without Kafka, against Postfix smtp-sink',
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, shared: process.env.BENCH_SHARED_NOTE ?? null },
    messages: N,
    concurrency: CONCURRENCY,
    limits: LIMITS,
    results: results.map((r) => ({ ...r, cpuRatioToBareNodemailer: base ? +(r.cpuMsPerMessage / base.cpuMsPerMessage).toFixed(2) : null })),
  };
  if (profileDir) for (const r of results) console.log(JSON.stringify({ variant: r.variant, byArea: r.profile!.byArea.slice(0, 8), top: r.profile!.top }, null, 1));
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const file = join(ROOT, 'bench', 'results', `sender-${out.at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(out, null, 2));
  log(`written to ${file}`);
}

await main();
