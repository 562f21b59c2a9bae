/**
 * `npm run demo`: the whole MTA against simulated mailbox providers, on this machine, in one
 * command. Starts a local Kafka (or uses KAFKA_BROKERS, on fresh topic names), the ISP simulator
 * (five providers on 127.0.0.x behind a DNS server on loopback, each with its own limits per
 * sending IP and its real deferral texts), the five services pointed at it (MX resolution through
 * the simulator's DNS, adaptive shaping, retries on short demo tiers), then sends a sample
 * campaign (unknown users, full mailboxes, greylisting, rate limits), shows live progress and ends
 * with the delivery's KPI table and the dashboard's address.
 *
 *   npm run demo                     3,000 messages; the stack stays up for the dashboard until Ctrl-C
 *   DEMO_MESSAGES=500 npm run demo -- --exit    smaller, and stop once the campaign is done
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { TOPIC_ENV } from '@mta/config';
import type { DeliveryKpis, StatusRecord, Topics } from '@mta/contracts';
import { freshTopics, ROOT, SERVICES, startIspSim, startService, type ServiceProcess } from '@mta/testkit';
import { campaign, demoShapingRules, kpiTable, progressLine, type Progress } from './demo-lib.ts';
// @ts-expect-error plain JS module without types
import { kafkaFromEnvOrStart } from '../deploy/kafka/local-kafka.mjs';

const N = Number(process.env.DEMO_MESSAGES ?? 3000);
const EXIT = process.argv.includes('--exit') || process.env.DEMO_EXIT === '1';
const TIMEOUT_S = Number(process.env.DEMO_TIMEOUT_S ?? 600);
const say = (m: string) => console.log(`[demo] ${m}`);

if (!Number.isInteger(N) || N < 1 || N > 1_000_000) {
  console.error(`[demo] DEMO_MESSAGES must be an integer from 1 to 1000000, got "${process.env.DEMO_MESSAGES}"`);
  process.exit(2);
}

const stoppers: Array<() => Promise<unknown>> = [];
let stopping = false;
async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say('stopping: services, simulator, broker');
    for (const s of stoppers.reverse()) await s().catch(() => undefined);
  }
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

const kafkaHandle = await kafkaFromEnvOrStart({ port: Number(process.env.MTA_DEMO_KAFKA_PORT ?? 9192), log: (m: string) => say(`kafka: ${m}`) });
stoppers.push(() => kafkaHandle.stop());
const kafka = new Kafka({ clientId: 'mta-demo', brokers: kafkaHandle.brokers.split(','), logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
stoppers.push(() => admin.disconnect());
const topics: Topics = await freshTopics(admin, 6);

// Durations of the simulated providers compressed 30×, like the shaping rules below (demoShapingRules).
const sim = await startIspSim({ timeScale: 30 });
stoppers.push(() => sim.close());
say(`ISP simulator: DNS ${sim.dnsServer}, SMTP port ${sim.smtpPort}`);
for (const p of sim.providers) {
  const L = p.profile.limits;
  say(`  ${p.profile.name.padEnd(10)} ${p.profile.ip.padEnd(11)} ${p.profile.domains.join(', ').padEnd(28)} per sending IP: ${L.messagesPerSecond} msg/s, ${L.maxConnections} connections`);
}

// Retries on short tiers so that greylisted and full mailboxes are retried within the demo.
const dir = mkdtempSync(join(tmpdir(), 'mta-demo-'));
const policy = join(dir, 'retry-policy.txt');
writeFileSync(policy, 'jitter = 10%\ncategory=greylisted | 5s...\ndefault | 10s, 20s...\n');
// The shipped shaping rules, every lane starting slow and adapting with its timing compressed 30×
// (adaptation every 2 s instead of 60 s), as in `npm run bench:adaptive`: a short demo shows it learn.
const rules = join(dir, 'shaping.yaml');
writeFileSync(rules, demoShapingRules(readFileSync(join(ROOT, 'services/throttle/shaping.default.yaml'), 'utf8')));
const run = randomUUID().slice(0, 8);
const env: Record<string, string> = {
  KAFKA_BROKERS: kafkaHandle.brokers,
  MTA_DNS_SERVER: sim.dnsServer,
  MTA_SMTP_PORT: String(sim.smtpPort),
  MTA_SMTP_TLS: 'none',
  MTA_MTA_STS: 'false',
  MTA_RETRY_POLICY: policy,
  MTA_RETRY_TIERS: '1s,2s,4s,8s,16s',
  MTA_THROTTLE_RULES: rules,
  LOG_LEVEL: 'warn',
};
for (const [id, name] of Object.entries(topics)) env[TOPIC_ENV[id as keyof Topics]] = name;
const services: ServiceProcess[] = [];
for (const s of SERVICES) {
  const p = await startService(s, { ...env, MTA_GROUP_ID: `demo-${s}-${run}` });
  services.push(p);
  stoppers.push(() => p.stop());
}
const feedback = services.find((s) => s.name === 'feedback')!;
say(`services ready: ${services.map((s) => `${s.name} :${s.port}`).join('  ')}`);

// Follow the statuses Campaign would read.
const deliveryId = `demo-${run}`;
const latest = new Map<string, StatusRecord['status']>();
const consumer = kafka.consumer({ groupId: `demo-status-${run}`, maxWaitTimeInMs: 100 });
await consumer.connect();
stoppers.push(() => consumer.disconnect());
await consumer.subscribe({ topic: topics.status, fromBeginning: true });
await consumer.run({
  eachBatch: async ({ batch }) => {
    for (const m of batch.messages) {
      const s = JSON.parse(m.value!.toString()) as StatusRecord;
      if (s.deliveryId !== deliveryId) continue;
      const prev = latest.get(s.messageId);
      // A final status stays final (feedback guarantees it; be as strict here).
      if (prev === 'sent' || prev === 'failed') {
        if (s.status === 'failed') latest.set(s.messageId, 'failed'); // an asynchronous hard bounce after sent
        continue;
      }
      latest.set(s.messageId, s.status);
    }
  },
});

const messages = campaign(N, deliveryId, sim.providers.flatMap((p) => p.profile.domains));
say(`sending a campaign of ${N} messages (delivery ${deliveryId}) to ${new Set(messages.map((m) => m.to.split('@')[1])).size} domains; about 3 % unknown users, 2 % full mailboxes, 5 % greylisted`);
const producer = kafka.producer();
await producer.connect();
stoppers.push(() => producer.disconnect());
const t0 = Date.now();
for (let i = 0; i < messages.length; i += 500) {
  await producer.send({ topic: topics.requests, messages: messages.slice(i, i + 500).map((m) => ({ key: m.messageId, value: JSON.stringify(m) })) });
}

const tty = process.stdout.isTTY === true;
const history: Array<{ at: number; sent: number }> = [];
let done = false;
let ticks = 0;
for (;;) {
  const p: Progress = { total: N, sent: 0, failed: 0, waiting: 0, elapsedS: (Date.now() - t0) / 1000, ratePerS: 0 };
  for (const s of latest.values()) {
    if (s === 'sent') p.sent++;
    else if (s === 'failed') p.failed++;
  }
  p.waiting = N - p.sent - p.failed;
  history.push({ at: Date.now(), sent: p.sent });
  while (history.length > 1 && history[0]!.at < Date.now() - 5000) history.shift();
  const first = history[0]!;
  p.ratePerS = history.length > 1 ? ((p.sent - first.sent) * 1000) / Math.max(1, Date.now() - first.at) : 0;
  done = p.waiting === 0;
  const line = progressLine(p, tty ? Math.min(40, (process.stdout.columns ?? 100) - 70) : 30);
  if (tty) process.stdout.write(`\r${line}`);
  else if (done || ticks % 4 === 0) console.log(line); // not a terminal: a line every 2 s
  ticks++;
  if (done || p.elapsedS > TIMEOUT_S) break;
  await new Promise((r) => setTimeout(r, 500));
}
if (tty) process.stdout.write('\n');
if (!done) say(`not every message reached a final status within ${TIMEOUT_S} s (DEMO_TIMEOUT_S); the table shows where they are`);

// The KPI table, as feedback serves it (the same numbers are on the mta.delivery-kpis topic).
let kpis: DeliveryKpis | undefined;
for (let i = 0; i < 40 && !kpis; i++) {
  const res = await fetch(`http://127.0.0.1:${feedback.port}/deliveries/${encodeURIComponent(deliveryId)}`);
  if (res.status === 200) {
    const k = (await res.json()) as DeliveryKpis;
    if (!done || k.sent + k.failed >= N) kpis = k;
  }
  if (!kpis) await new Promise((r) => setTimeout(r, 250));
}
console.log('');
if (kpis) console.log(kpiTable(kpis));
else say('feedback did not serve the delivery\'s KPIs');
const totals = sim.totals();
say(`the simulated providers saw: ${totals.delivered} delivered, ${totals.unknownUser} unknown users, deferrals ${JSON.stringify(totals.deferred)}`);
console.log('');
say(`dashboard: http://127.0.0.1:${feedback.port}/dashboard   KPIs: http://127.0.0.1:${feedback.port}/deliveries/${deliveryId}`);
const throttle = services.find((s) => s.name === 'throttle')!;
say(`shaping (why is a provider slow?): http://127.0.0.1:${throttle.port}/shaping/lanes   queues: http://127.0.0.1:${throttle.port}/queues`);
if (EXIT) await stopAll(done ? 0 : 1);
say('the stack stays up so you can open the dashboard; Ctrl-C stops everything');
