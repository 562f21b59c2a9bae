/**
 * `npm run bench`: the whole stack (five services as processes, real Kafka) against a local SMTP
 * sink (Postfix's smtp-sink when installed, else the smtp-server sink), N requests of ~5 KB.
 * Prints and writes JSON: messages/s from the first request produced to the last `sent` status,
 * p50/p99 latency request → sent, and the same messages sent by one bare nodemailer pool straight
 * to the same sink as a baseline measured in this invocation.
 *
 *   BENCH_MESSAGES=20000 BENCH_DOMAINS=20 npm run bench
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import nodemailer from 'nodemailer';
import { TOPIC_ENV } from '@mta/config';
import type { StatusRecord, Topics } from '@mta/contracts';
import { freePort, freshTopics, ROOT, SERVICES, startService, startSink, type ServiceProcess } from '@mta/testkit';
// @ts-expect-error plain JS module without types
import { kafkaFromEnvOrStart } from '../deploy/kafka/local-kafka.mjs';

const N = Number(process.env.BENCH_MESSAGES ?? 20000);
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

async function startSmtpSink(): Promise<{ port: number; kind: string; close(): Promise<void> }> {
  const port = await freePort();
  const bin = ['/usr/sbin/smtp-sink', '/usr/lib/postfix/sbin/smtp-sink'].find((p) => existsSync(p));
  if (bin) {
    const child: ChildProcess = spawn(bin, ['-u', 'nobody', `127.0.0.1:${port}`, '1024'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 300));
    if (child.exitCode === null) return { port, kind: `postfix smtp-sink (${bin})`, close: async () => void child.kill('SIGTERM') };
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

async function main() {
  const kafkaHandle = await kafkaFromEnvOrStart({ log: (m: string) => log(`kafka: ${m}`) });
  const kafka = new Kafka({ clientId: 'bench', brokers: [kafkaHandle.brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const topics: Topics = await freshTopics(admin, 6);
  const sink = await startSmtpSink();
  log(`sink: ${sink.kind} on 127.0.0.1:${sink.port}`);
  const run = randomUUID().slice(0, 8);
  const rulesDir = mkdtempSync(join(tmpdir(), 'mta-bench-'));
  const rules = join(rulesDir, 'limits.yaml');
  writeFileSync(rules, 'defaults: { messagesPerSecond: 100000, maxConnections: 10, messagesPerConnection: 100 }\n');

  log(`baseline: one nodemailer pool (10 connections) straight to the sink, ${N} messages`);
  const base = await baseline(sink.port, `base-${run}`);
  log(`baseline: ${base.rate.toFixed(0)} msg/s`);

  const env: Record<string, string> = { KAFKA_BROKERS: kafkaHandle.brokers, MTA_ROUTES: `*=127.0.0.1:${sink.port}`, MTA_THROTTLE_RULES: rules, LOG_LEVEL: 'warn' };
  for (const [id, name] of Object.entries(topics)) env[TOPIC_ENV[id as keyof Topics]] = name;
  const services: ServiceProcess[] = await Promise.all(SERVICES.map((s) => startService(s, { ...env, MTA_GROUP_ID: `bench-${s}-${run}` })));
  log(`services ready: ${services.map((s) => `${s.name}:${s.port}`).join(' ')}`);

  const producedAt = new Map<string, number>();
  const latencies: number[] = [];
  let sent = 0;
  let failed = 0;
  let lastSentAt = 0;
  const consumer = kafka.consumer({ groupId: `bench-status-${run}`, maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topic: topics.status, fromBeginning: true });
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const now = performance.now();
      for (const m of batch.messages) {
        const s = JSON.parse(m.value!.toString()) as StatusRecord;
        if (s.status === 'sent') {
          sent++;
          lastSentAt = now;
          const t = producedAt.get(s.messageId);
          if (t !== undefined) latencies.push(now - t);
        } else if (s.status === 'failed') failed++;
      }
      if (sent + failed >= N) resolveDone();
    },
  });

  const producer = kafka.producer();
  await producer.connect();
  log(`producing ${N} requests of ~5 KB to ${DOMAINS} domains`);
  const cpuPids: Record<string, number | undefined> = { kafka: kafkaHandle.pid ?? (Number(process.env.BENCH_KAFKA_PID) || undefined), ...Object.fromEntries(services.map((s) => [s.name, s.child.pid])) };
  const cpuBefore = Object.fromEntries(Object.entries(cpuPids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  const benchCpuBefore = process.cpuUsage();
  const t0 = performance.now();
  const BATCH = 500;
  let lastProgress = 0;
  const progress = setInterval(() => {
    const s = (performance.now() - t0) / 1000;
    log(`  ${s.toFixed(0)} s: ${sent} sent, ${failed} failed (${((sent - lastProgress) / 2).toFixed(0)} msg/s now)`);
    lastProgress = sent;
  }, 2000);
  for (let i = 0; i < N; i += BATCH) {
    const messages = [];
    const at = performance.now();
    for (let j = i; j < Math.min(N, i + BATCH); j++) {
      const m = message(j, run);
      producedAt.set(m.messageId, at);
      messages.push({ key: m.messageId, value: JSON.stringify(m) });
    }
    await producer.send({ topic: topics.requests, messages });
  }
  const producedIn = (performance.now() - t0) / 1000;
  const timeout = setTimeout(() => resolveDone(), Number(process.env.BENCH_TIMEOUT_S ?? 300) * 1000);
  await done;
  clearTimeout(timeout);
  clearInterval(progress);
  const seconds = (lastSentAt - t0) / 1000;
  // CPU per message, per process: robust to other load on the machine, unlike wall-clock rates.
  const cpuMsPerMessage: Record<string, number> = {};
  for (const [k, pid] of Object.entries(cpuPids)) cpuMsPerMessage[k] = +(((cpuSeconds(pid) - cpuBefore[k]!) * 1000) / Math.max(1, sent)).toFixed(3);
  const benchCpu = process.cpuUsage(benchCpuBefore);
  cpuMsPerMessage['bench (producer + status reader)'] = +((benchCpu.user + benchCpu.system) / 1000 / Math.max(1, sent)).toFixed(3);
  const cpuTotal = Object.values(cpuMsPerMessage).filter(Number.isFinite).reduce((a, b) => a + b, 0);
  latencies.sort((a, b) => a - b);
  const result = {
    benchmark: 'e2e: mta.requests → five services → SMTP sink → mta.status',
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30) },
    messages: N,
    messageBytes: Buffer.byteLength(JSON.stringify(message(0, run))),
    domains: DOMAINS,
    sink: sink.kind,
    dkim: false,
    sent,
    failed,
    producedInSeconds: +producedIn.toFixed(2),
    seconds: +seconds.toFixed(2),
    messagesPerSecond: +(sent / seconds).toFixed(0),
    latencyMs: { p50: +pct(latencies, 50).toFixed(0), p99: +pct(latencies, 99).toFixed(0), max: +(latencies.at(-1) ?? NaN).toFixed(0) },
    cpuMsPerMessage: { ...cpuMsPerMessage, total: +cpuTotal.toFixed(3) },
    cpuBoundMessagesPerSecond: +((cpus().length * 1000) / cpuTotal).toFixed(0),
    baseline: { what: 'one nodemailer pool, 10 connections, straight to the same sink, no Kafka', messagesPerSecond: +base.rate.toFixed(0) },
    ratioToBaseline: +((sent / seconds) / base.rate).toFixed(2),
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const file = join(ROOT, 'bench', 'results', `e2e-${result.at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2));
  log(`written to ${file}`);

  await consumer.disconnect();
  await producer.disconnect();
  await Promise.all(services.map((s) => s.stop()));
  await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
  await admin.disconnect();
  await sink.close();
  await kafkaHandle.stop();
  if (sent < N) {
    console.error(`[bench] only ${sent}/${N} sent (${failed} failed)`);
    process.exit(1);
  }
}

await main();
