/**
 * `npm run bench`: the whole stack (five services as processes, real Kafka) against a local SMTP
 * sink (Postfix's smtp-sink when installed, else the smtp-server sink), N requests of ~5 KB.
 * Prints and writes JSON: messages/s from the first request produced to the last `sent` status,
 * p50/p99 latency request → sent, and the same messages sent by one bare nodemailer pool straight
 * to the same sink as a baseline measured in this invocation.
 *
 * Warm-up: each pass first sends BENCH_WARMUP requests (default 5,000) through the same service
 * processes and waits for their statuses, then measures the N requests: a long-running MTA's
 * rate, not the first seconds of new Node processes (JIT compilation, heap growth). The warm-up's
 * own rate is reported with the pass (`warmup`); BENCH_WARMUP=0 measures the cold processes.
 *
 * DKIM: BENCH_DKIM=both (default) runs the pipeline twice in this invocation, without and with
 * an RSA-2048 DKIM signature on every message (MTA_DKIM_DIR with a generated key for the From
 * domain), and reports both and their ratio; `off` or `on` runs one. With MTA_PROFILE_DIR set,
 * every service writes a V8 CPU profile per run and each is summarised (self time by package
 * and the heaviest functions); `node --import tsx bench/profile.ts DIR` summarises them again.
 *
 *   BENCH_MESSAGES=20000 BENCH_DOMAINS=20 BENCH_WARMUP=5000 npm run bench
 */
import './kafkajs-patched.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { Kafka, logLevel, type ICustomPartitioner } from 'kafkajs';
import nodemailer from 'nodemailer';
import { TOPIC_ENV } from '@mta/config';
import type { StatusRecord, Topics } from '@mta/contracts';
import { freePort, freshTopics, ROOT, SERVICES, startService, startSink, type ServiceProcess } from '@mta/testkit';
// @ts-expect-error plain JS module without types
import { kafkaFromEnvOrStart } from '../deploy/kafka/local-kafka.mjs';
import { fastDefaultPartitioner, patchKafkajsIdleLoop } from '@mta/kafka';
import { formatProfiles, summarizeProfile, type ProfileSummary } from './profile.ts';

// The bench's own kafkajs clients without kafkajs's idle timer loop (as the services run).
patchKafkajsIdleLoop(import.meta.url);

const N = Number(process.env.BENCH_MESSAGES ?? 20000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5000);
if (!Number.isInteger(WARMUP) || WARMUP < 0) throw new Error(`BENCH_WARMUP must be a whole number of requests (0 for none), got "${process.env.BENCH_WARMUP}"`);
const DOMAINS = Number(process.env.BENCH_DOMAINS ?? 20);
const BODY = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(Math.ceil(5000 / 57)).slice(0, 5000);
const log = (m: string) => console.log(`[bench] ${m}`);

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function startSmtpSink(): Promise<{ port: number; kind: string; pid?: number; close(): Promise<void> }> {
  const port = await freePort();
  const bin = ['/usr/sbin/smtp-sink', '/usr/lib/postfix/sbin/smtp-sink'].find((p) => existsSync(p));
  if (bin) {
    const child: ChildProcess = spawn(bin, ['-u', 'nobody', `127.0.0.1:${port}`, '1024'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 300));
    process.on('exit', () => child.kill('SIGKILL')); // never left behind, whatever the exit path
    if (child.exitCode === null) return { port, kind: `postfix smtp-sink (${bin})`, pid: child.pid, close: async () => void child.kill('SIGTERM') };
  }
  const sink = await startSink({ port, keep: false });
  return { port, kind: 'smtp-server sink (Postfix smtp-sink not installed)', close: () => sink.close() };
}

const message = (i: number, run: string) => ({
  messageId: `bench-${run}-${i}`,
  deliveryId: `bench-${run}`,
  from: 'Brand <news@brand.example>',
  to: `user${i}@d${i % DOMAINS}.bench.test`,
  subject: `Bench message ${i}`,
  text: BODY,
});

async function baseline(port: number, run: string): Promise<{ seconds: number; rate: number }> {
  const transport = nodemailer.createTransport({ pool: true, host: '127.0.0.1', port, maxConnections: 10, maxMessages: 100, ignoreTLS: true, secure: false });
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < N) {
      const m = message(next++, run);
      await transport.sendMail({ from: m.from, to: m.to, subject: m.subject, text: m.text });
    }
  };
  await Promise.all(Array.from({ length: 200 }, worker));
  const seconds = (performance.now() - t0) / 1000;
  transport.close();
  return { seconds, rate: N / seconds };
}

/** One run of `drive`: the statuses of `count` requests as they arrive. */
interface Drive {
  count: number;
  producedAt: Map<string, number>;
  latencies: number[];
  sent: number;
  failed: number;
  lastSentAt: number;
  t0: number;
  producedIn: number;
  resolve(): void;
}

interface Pass {
  dkim: boolean;
  /** The requests sent through the same processes before the measured ones (BENCH_WARMUP). */
  warmup?: { messages: number; sent: number; failed: number; seconds: number; messagesPerSecond: number };
  sent: number;
  failed: number;
  producedInSeconds: number;
  seconds: number;
  messagesPerSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** CPU time per sent message, per process (robust to other load on the machine, unlike rates). */
  cpuMsPerMessage: Record<string, number>;
  /**
   * The SMTP sink's CPU per message (Postfix's smtp-sink; absent for the in-process fallback): not
   * the MTA's and not in `total`, but it runs on the same cores.
   */
  sinkCpuMsPerMessage?: number;
  /** What the measured CPU cost allows on this machine's cores if nothing else ran. */
  cpuBoundMessagesPerSecond: number;
  /** Per service, with MTA_PROFILE_DIR: self time by area and the heaviest functions. */
  profiles?: Record<string, ProfileSummary>;
}

/** One run of the whole pipeline on fresh topics and fresh service processes. */
async function runPass(kafka: Kafka, brokers: string, sinkPort: number, rules: string, dkimDir: string | undefined, kafkaPid: number | undefined, sinkPid?: number): Promise<Pass> {
  const admin = kafka.admin();
  await admin.connect();
  const topics: Topics = await freshTopics(admin, 6);
  const run = randomUUID().slice(0, 8);
  const profileRoot = process.env.MTA_PROFILE_DIR;
  const profileDir = profileRoot ? join(profileRoot, `${dkimDir ? 'dkim' : 'nodkim'}-${run}`) : undefined;
  const env: Record<string, string> = { KAFKA_BROKERS: brokers, MTA_ROUTES: `*=127.0.0.1:${sinkPort}`, MTA_THROTTLE_SITE: 'domain', MTA_THROTTLE_RULES: rules, LOG_LEVEL: 'warn', MTA_MTA_STS: 'false' };
  if (dkimDir) env.MTA_DKIM_DIR = dkimDir;
  if (profileDir) {
    mkdirSync(profileDir, { recursive: true });
    process.env.MTA_PROFILE_DIR = profileDir;
  }
  for (const [id, name] of Object.entries(topics)) env[TOPIC_ENV[id as keyof Topics]] = name;
  // Every service is stopped whatever happens (a failed start or run must not leave processes behind).
  const started = await Promise.allSettled(SERVICES.map((s) => startService(s, { ...env, MTA_GROUP_ID: `bench-${s}-${run}` })));
  const services: ServiceProcess[] = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  for (const s of services) live.add(s);
  const failedStart = started.find((r) => r.status === 'rejected');
  if (failedStart) {
    await stopAll(services);
    throw (failedStart as PromiseRejectedResult).reason;
  }
  try {
    return await measure(kafka, admin, topics, run, services, kafkaPid, dkimDir, profileDir, profileRoot, sinkPid);
  } finally {
    await stopAll(services);
    // BENCH_KEEP_TOPICS=1 keeps the run's topics, to read the records' timestamps stage by stage afterwards (kcat).
    if (process.env.BENCH_KEEP_TOPICS === '1') log(`topics kept: ${Object.values(topics).join(' ')}`);
    else await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.disconnect();
    if (profileRoot) process.env.MTA_PROFILE_DIR = profileRoot;
  }
}

/** Service processes of this bench still running: killed on exit, whatever the exit path. */
const live = new Set<ServiceProcess>();
process.on('exit', () => {
  for (const s of live) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
});

async function stopAll(services: ServiceProcess[]): Promise<void> {
  await Promise.all(services.map((s) => s.stop().finally(() => live.delete(s))));
}

async function measure(
  kafka: Kafka,
  admin: ReturnType<Kafka['admin']>,
  topics: Topics,
  run: string,
  services: ServiceProcess[],
  kafkaPid: number | undefined,
  dkimDir: string | undefined,
  profileDir: string | undefined,
  profileRoot: string | undefined,
  sinkPid: number | undefined,
): Promise<Pass> {
  void admin;
  void profileRoot;
  log(`services ready: ${services.map((s) => `${s.name}:${s.port}`).join(' ')}`);

  // One status reader for the warm-up and the measured pass: each counts the statuses of its own
  // messageIds only (the reader starts at the topic's beginning).
  let current: Drive | undefined;
  // Fetches of 512 KiB or 50 ms (minBytes 1 would loop on tiny fetches and load the broker the bench measures).
  const consumer = kafka.consumer({ groupId: `bench-status-${run}`, minBytes: 512 * 1024, maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topic: topics.status, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const d = current;
      if (!d) return;
      const now = performance.now();
      for (const m of batch.messages) {
        const s = JSON.parse(m.value!.toString()) as StatusRecord;
        const t = d.producedAt.get(s.messageId);
        if (t === undefined) continue;
        if (s.status === 'sent') {
          d.sent++;
          d.lastSentAt = now;
          d.latencies.push(now - t);
        } else if (s.status === 'failed') d.failed++;
      }
      if (d.sent + d.failed >= d.count) d.resolve();
    },
  });

  // kafkajs's default partitioner with the integer murmur2 (same partitions), as the services' bundles have it.
  const createPartitioner = fastDefaultPartitioner(import.meta.url) as ICustomPartitioner | undefined;
  const producer = kafka.producer(createPartitioner ? { createPartitioner } : {});
  await producer.connect();

  /** Produces `count` requests (messageIds tagged `tag`) and waits for their final statuses. */
  async function drive(count: number, tag: string, onStart: () => void = () => undefined): Promise<Drive> {
    // The requests are encoded before the clock starts: the measure is the MTA's, not JSON.stringify's.
    const BATCH = 500;
    const batches: { messageIds: string[]; messages: { key: string; value: Buffer }[] }[] = [];
    for (let i = 0; i < count; i += BATCH) {
      const b: (typeof batches)[number] = { messageIds: [], messages: [] };
      for (let j = i; j < Math.min(count, i + BATCH); j++) {
        const m = message(j, tag);
        b.messageIds.push(m.messageId);
        b.messages.push({ key: m.messageId, value: Buffer.from(JSON.stringify(m)) });
      }
      batches.push(b);
    }
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const d: Drive = { count, producedAt: new Map(), latencies: [], sent: 0, failed: 0, lastSentAt: 0, t0: 0, producedIn: 0, resolve };
    current = d;
    onStart();
    d.t0 = performance.now();
    let lastProgress = 0;
    const progress = setInterval(() => {
      const s = (performance.now() - d.t0) / 1000;
      log(`  ${s.toFixed(0)} s: ${d.sent} sent, ${d.failed} failed (${((d.sent - lastProgress) / 2).toFixed(0)} msg/s now)`);
      lastProgress = d.sent;
    }, 2000);
    for (const { messageIds, messages } of batches) {
      const at = performance.now();
      for (const id of messageIds) d.producedAt.set(id, at);
      await producer.send({ topic: topics.requests, messages });
    }
    batches.length = 0;
    d.producedIn = (performance.now() - d.t0) / 1000;
    const timeout = setTimeout(resolve, Number(process.env.BENCH_TIMEOUT_S ?? 300) * 1000);
    await done;
    clearTimeout(timeout);
    clearInterval(progress);
    current = undefined;
    return d;
  }

  let warmup: Pass['warmup'];
  if (WARMUP > 0) {
    log(`warm-up: ${WARMUP} requests through the same processes first (BENCH_WARMUP=0 measures cold processes)`);
    const w = await drive(WARMUP, `${run}-warmup`);
    const seconds = (w.lastSentAt - w.t0) / 1000;
    warmup = { messages: WARMUP, sent: w.sent, failed: w.failed, seconds: +seconds.toFixed(2), messagesPerSecond: +(w.sent / seconds).toFixed(0) };
    log(`warm-up: ${warmup.messagesPerSecond} msg/s (${w.sent} sent, ${w.failed} failed)`);
  }

  log(`producing ${N} requests of ~5 KB to ${DOMAINS} domains`);
  const cpuPids: Record<string, number | undefined> = { kafka: kafkaPid, ...Object.fromEntries(services.map((s) => [s.name, s.child.pid])) };
  let cpuBefore: Record<string, number> = {};
  let sinkBefore = NaN;
  let benchCpuBefore = process.cpuUsage();
  let fromUs = 0;
  const d = await drive(N, run, () => {
    cpuBefore = Object.fromEntries(Object.entries(cpuPids).map(([k, pid]) => [k, cpuSeconds(pid)]));
    sinkBefore = cpuSeconds(sinkPid);
    benchCpuBefore = process.cpuUsage();
    fromUs = Number(process.hrtime.bigint() / 1000n);
  });
  const { sent, failed, latencies, producedIn } = d;
  const toUs = Number(process.hrtime.bigint() / 1000n);
  const seconds = (d.lastSentAt - d.t0) / 1000;
  const cpuMsPerMessage: Record<string, number> = {};
  for (const [k, pid] of Object.entries(cpuPids)) cpuMsPerMessage[k] = +(((cpuSeconds(pid) - cpuBefore[k]!) * 1000) / Math.max(1, sent)).toFixed(3);
  const benchCpu = process.cpuUsage(benchCpuBefore);
  cpuMsPerMessage['bench (producer + status reader)'] = +((benchCpu.user + benchCpu.system) / 1000 / Math.max(1, sent)).toFixed(3);
  const cpuTotal = Object.values(cpuMsPerMessage).filter(Number.isFinite).reduce((a, b) => a + b, 0);
  cpuMsPerMessage.total = +cpuTotal.toFixed(3);
  latencies.sort((a, b) => a - b);
  await consumer.disconnect();
  await producer.disconnect();
  // Profiles are written when the processes exit.
  if (profileDir) await stopAll(services);
  const pass: Pass = {
    dkim: dkimDir !== undefined,
    ...(warmup ? { warmup } : {}),
    sent,
    failed,
    producedInSeconds: +producedIn.toFixed(2),
    seconds: +seconds.toFixed(2),
    messagesPerSecond: +(sent / seconds).toFixed(0),
    latencyMs: { p50: +pct(latencies, 50).toFixed(0), p99: +pct(latencies, 99).toFixed(0), max: +(latencies.at(-1) ?? NaN).toFixed(0) },
    cpuMsPerMessage,
    ...(Number.isFinite(sinkBefore) ? { sinkCpuMsPerMessage: +(((cpuSeconds(sinkPid) - sinkBefore) * 1000) / Math.max(1, sent)).toFixed(3) } : {}),
    cpuBoundMessagesPerSecond: +((cpus().length * 1000) / cpuTotal).toFixed(0),
  };
  if (profileDir) {
    // The measured window, for further analysis of the profiles (e.g. inclusive times).
    writeFileSync(join(profileDir, 'window.json'), JSON.stringify({ fromUs, toUs }));
    pass.profiles = {};
    for (const name of SERVICES) {
      const prof = join(profileDir, `${name}.cpuprofile`);
      if (existsSync(prof)) pass.profiles[name] = summarizeProfile(prof, 15, { fromUs, toUs });
    }
    log(`CPU profiles in ${profileDir}, first request to last status (self time, idle excluded):\n${formatProfiles(pass.profiles)}`);
  }
  log(`${pass.dkim ? 'with' : 'without'} DKIM: ${pass.messagesPerSecond} msg/s, p50 ${pass.latencyMs.p50} ms, p99 ${pass.latencyMs.p99} ms`);
  return pass;
}

async function main() {
  const kafkaHandle = await kafkaFromEnvOrStart({ log: (m: string) => log(`kafka: ${m}`) });
  // Generous retries: a just-created topic's partitions may take seconds to get a leader on a loaded broker.
  const kafka = new Kafka({ clientId: 'bench', brokers: [kafkaHandle.brokers], logLevel: logLevel.NOTHING, retry: { initialRetryTime: 200, retries: 12 } });
  const sink = await startSmtpSink();
  log(`sink: ${sink.kind} on 127.0.0.1:${sink.port}`);
  const run = randomUUID().slice(0, 8);
  const rulesDir = mkdtempSync(join(tmpdir(), 'mta-bench-'));
  const rules = join(rulesDir, 'limits.yaml');
  writeFileSync(rules, 'defaults: { messagesPerSecond: 100000, maxConnections: 10, messagesPerConnection: 100 }\n');
  // An RSA-2048 key for the From domain of every bench message (brand.example).
  const dkimDir = join(rulesDir, 'dkim');
  mkdirSync(join(dkimDir, 'brand.example'), { recursive: true });
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dkimDir, 'brand.example', 's2048.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const mode = process.env.BENCH_DKIM ?? 'both';

  log(`baseline: one nodemailer pool (10 connections) straight to the sink, ${N} messages`);
  const base = await baseline(sink.port, `base-${run}`);
  log(`baseline: ${base.rate.toFixed(0)} msg/s`);

  // The broker's pid: ours when this run started it, else BENCH_KAFKA_PID (an external broker) if given.
  const kafkaPid: number | undefined = kafkaHandle.pid ?? (Number(process.env.BENCH_KAFKA_PID) || undefined);
  const passes: Pass[] = [];
  if (mode !== 'on') passes.push(await runPass(kafka, kafkaHandle.brokers, sink.port, rules, undefined, kafkaPid, sink.pid));
  if (mode !== 'off') passes.push(await runPass(kafka, kafkaHandle.brokers, sink.port, rules, dkimDir, kafkaPid, sink.pid));
  const without = passes.find((p) => !p.dkim);
  const withDkim = passes.find((p) => p.dkim);
  const result = {
    benchmark: 'e2e: mta.requests → five services → SMTP sink → mta.status',
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), shared: process.env.BENCH_SHARED_NOTE ?? null },
    messages: N,
    warmupMessages: WARMUP,
    messageBytes: Buffer.byteLength(JSON.stringify(message(0, run))),
    domains: DOMAINS,
    sink: sink.kind,
    passes,
    baseline: { what: 'one nodemailer pool, 10 connections, straight to the same sink, no Kafka', messagesPerSecond: +base.rate.toFixed(0) },
    ratioToBaseline: Object.fromEntries(passes.map((p) => [p.dkim ? 'dkim' : 'noDkim', +(p.messagesPerSecond / base.rate).toFixed(2)])),
    dkimToNoDkim: without && withDkim ? +(withDkim.messagesPerSecond / without.messagesPerSecond).toFixed(2) : null,
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const file = join(ROOT, 'bench', 'results', `e2e-${result.at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2));
  log(`written to ${file}`);
  await sink.close();
  await kafkaHandle.stop();
  const short = passes.filter((p) => p.sent < N);
  if (short.length) {
    console.error(`[bench] not every message was sent: ${short.map((p) => `${p.dkim ? 'dkim' : 'no dkim'} ${p.sent}/${N} (${p.failed} failed)`).join(', ')}`);
    process.exit(1);
  }
}


await main();
