/**
 * Feedback end to end on the real Kafka: its bundle as a process, events produced onto the events
 * topic as ingest, throttle and bounce-classifier would, statuses and KPI snapshots read back from
 * their topics and over HTTP, with restarts (SIGTERM, kill -9, a new consumer group replaying
 * every event) in the middle of the delivery.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import kafkajs, { type Admin, type Producer } from 'kafkajs';
import { failure, type DeliveryKpis, type EventName, type MtaEvent, type StatusRecord, type Topics } from '@mta/contracts';
import { TOPIC_ENV } from '@mta/config';
import { collect, freshTopics, startService, testKafka, type Collected, type ServiceProcess } from '@mta/testkit';

const kafka = testKafka('feedback-e2e');
const run = randomUUID().slice(0, 8);
const D = `d-${run}`;
const PARTITIONS = 3;
let admin: Admin;
let producer: Producer;
let topics: Topics;
let env: Record<string, string>;
let status: Collected<StatusRecord>;
let kpis: Collected<DeliveryKpis>;
let svc: ServiceProcess | undefined;

before(async () => {
  admin = kafka.admin();
  await admin.connect();
  topics = await freshTopics(admin, PARTITIONS);
  // As in deploy/topics.json: the KPI topic is compacted.
  await admin.alterConfigs({
    validateOnly: false,
    resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topics.deliveryKpis, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
  });
  env = { KAFKA_BROKERS: process.env.KAFKA_BROKERS!, MTA_FEEDBACK_KPI_INTERVAL_MS: '200', MTA_SHUTDOWN_TIMEOUT_MS: '5000' };
  for (const [id, name] of Object.entries(topics)) env[TOPIC_ENV[id as keyof Topics]] = name;
  producer = kafka.producer();
  await producer.connect();
  status = await collect<StatusRecord>(kafka, topics.status);
  kpis = await collect<DeliveryKpis>(kafka, topics.deliveryKpis);
});

after(async () => {
  await svc?.stop('SIGKILL');
  await status?.stop();
  await kpis?.stop();
  await producer?.disconnect();
  await admin?.disconnect();
});

const F = {
  hard: failure('hard', 1, 10, 'bad-mailbox', '550 5.1.1 <hard@example.com>: User unknown'),
  grey: failure('soft', 20, 50, 'policy-related', '451 4.7.1 Greylisted, try again later'),
  full: failure('soft', 5, 22, 'quota-issues', '452 4.2.2 Mailbox full'),
  expired: failure('soft', 3, 24, 'message-expired', 'validity ended before attempt 3 could be made'),
  rejected: failure('ignored', 25, 25, 'invalid-request', '/to: must be an e-mail address'),
};
const TO: Record<string, string> = { m1: 'alice@example.com', m2: 'hard@example.com', m3: 'grey@other.example', m4: 'full@other.example', m5: 'not-an-address' };

function ev(id: string, event: EventName, attempt: number, f?: MtaEvent['failure'], deliveryId = D): MtaEvent {
  return { v: 1, messageId: `${run}-${id}`, deliveryId, recipient: TO[id] ?? `${id}@example.com`, event, attempt, timestamp: new Date().toISOString(), ...(f ? { failure: f } : {}) };
}

async function produce(events: MtaEvent[]): Promise<void> {
  await producer.send({ topic: topics.events, messages: events.map((e) => ({ key: e.messageId, value: JSON.stringify(e) })) });
}

async function start(groupId: string): Promise<ServiceProcess> {
  svc = await startService('feedback', { ...env, MTA_GROUP_ID: groupId });
  const deadline = Date.now() + 30000;
  // /readyz is up once consuming; the KPIs answer once the state is rebuilt from the status topic.
  while ((await fetch(`http://127.0.0.1:${svc.port}/deliveries`)).status === 503) {
    if (Date.now() > deadline) throw new Error(`feedback did not rebuild:\n${svc.output.join('')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return svc;
}

async function kpisOverHttp(deliveryId = D): Promise<DeliveryKpis> {
  const res = await fetch(`http://127.0.0.1:${svc!.port}/deliveries/${deliveryId}`);
  assert.equal(res.status, 200, `GET /deliveries/${deliveryId}`);
  return (await res.json()) as DeliveryKpis;
}

/** Status records of the delivery as `id status event reason`, grouped by message (partitions interleave), each message's in order. */
const statusLines = () =>
  status.records
    .map((r) => r.value)
    .filter((r) => r.deliveryId === D)
    .map((r) => `${r.messageId.slice(run.length + 1)} ${r.status} ${r.event}${r.failureReason ? ` ${r.failureReason}` : ''}`)
    .sort((a, b) => (a.slice(0, 2) < b.slice(0, 2) ? -1 : a.slice(0, 2) > b.slice(0, 2) ? 1 : 0));
const waitForStatuses = (n: number) => status.until((rs) => rs.filter((r) => r.deliveryId === D).length >= n, 30000);

/** One event per partition, in a delivery of its own: once all are folded, everything before them in each partition was too. */
async function sentinel(name: string): Promise<void> {
  const ids = Array.from({ length: PARTITIONS }, (_, p) => ({ p, e: ev(`${name}-${p}`, 'accepted', 0, undefined, `sentinel-${run}`) }));
  await producer.send({ topic: topics.events, messages: ids.map(({ p, e }) => ({ key: e.messageId, value: JSON.stringify(e), partition: p })) });
  await status.until((rs) => ids.every(({ e }) => rs.some((r) => r.messageId === e.messageId)), 30000);
}

const expectedFinal = [
  'm1 taken_into_account accepted',
  'm1 sent delivered',
  'm2 taken_into_account accepted',
  'm2 failed hard_bounce User unknown',
  'm3 taken_into_account accepted',
  'm3 taken_into_account soft_bounce Refused',
  'm3 sent delivered',
  'm4 taken_into_account accepted',
  'm4 taken_into_account soft_bounce Mailbox full',
  'm4 taken_into_account soft_bounce Mailbox full',
  'm4 failed expired Unreachable',
  'm5 failed rejected Error ignored',
];

test('a delivery with delivered, hard-bounced, soft-then-delivered, expired and rejected messages, through restarts', async () => {
  const group = `fb-${run}`;
  await start(group);
  // Phase 1: acceptance (and one rejection), first outcomes.
  const phase1 = [ev('m1', 'accepted', 0), ev('m2', 'accepted', 0), ev('m3', 'accepted', 0), ev('m4', 'accepted', 0), ev('m5', 'rejected', 0, F.rejected)];
  const phase1b = [ev('m1', 'delivered', 1), ev('m2', 'hard_bounce', 1, F.hard), ev('m3', 'soft_bounce', 1, F.grey)];
  await produce(phase1);
  await produce(phase1b);
  await waitForStatuses(8);
  const k1 = await kpis.until((ks) => ks.some((k) => k.deliveryId === D && k.statusRecords === 8));
  const before1 = await kpisOverHttp();
  assert.deepEqual(k1.filter((k) => k.deliveryId === D).at(-1), before1, 'the snapshot on the topic is what HTTP serves');
  assert.equal(before1.successRate, 20);
  assert.equal(before1.takenIntoAccount, 2);

  // Graceful restart mid-delivery: the rebuilt KPIs are the same numbers.
  assert.equal(await svc!.stop('SIGTERM'), 0, 'SIGTERM exits 0');
  await start(group);
  assert.deepEqual(await kpisOverHttp(), before1, 'KPIs after a SIGTERM restart');

  // Phase 2, with duplicates of phase 1 (a producer retry upstream).
  await produce([ev('m3', 'delivered', 2), ev('m4', 'soft_bounce', 1, F.full), ...phase1b, ev('m4', 'soft_bounce', 2, F.full)]);
  await waitForStatuses(11);
  await sentinel('s1');
  const before2 = await kpisOverHttp();

  // kill -9 right after the last outputs: their offsets are most likely not committed yet.
  await produce([ev('m4', 'expired', 2, F.expired)]);
  await waitForStatuses(12);
  await svc!.stop('SIGKILL');
  await start(group);
  const afterKill = await kpisOverHttp();
  assert.equal(afterKill.statusRecords, before2.statusRecords + 1, 'the expiry is counted once');
  // Everything again, as a replay would deliver it.
  await produce([...phase1, ...phase1b, ev('m3', 'delivered', 2), ev('m4', 'expired', 2, F.expired)]);
  await sentinel('s2');
  assert.deepEqual(await kpisOverHttp(), afterKill, 'duplicates after kill -9 change nothing');

  // A new consumer group re-reads every event from the beginning: nothing is published again.
  assert.equal(await svc!.stop('SIGTERM'), 0);
  await start(`fb-replay-${run}`);
  await sentinel('s3');
  const final = await kpisOverHttp();
  assert.deepEqual(final, afterKill, 'a full replay changes nothing');

  assert.deepEqual(statusLines(), expectedFinal, 'each transition published exactly once');
  const { firstEventAt, lastEventAt, ...numbers } = final;
  assert.ok(firstEventAt <= lastEventAt);
  assert.deepEqual(numbers, {
    v: 1,
    deliveryId: D,
    messages: 5,
    takenIntoAccount: 0,
    sent: 2,
    failed: 3,
    failedHard: 1,
    failedExpired: 1,
    failedRejected: 1,
    asyncBounces: 0,
    softBounces: 3,
    complaints: 0,
    successRate: 40,
    bounceRate: 60,
    byReason: {
      'Mailbox full': { failed: 0, softBounces: 2 },
      'Error ignored': { failed: 1, softBounces: 0 },
      Refused: { failed: 0, softBounces: 1 },
      Unreachable: { failed: 1, softBounces: 0 },
      'User unknown': { failed: 1, softBounces: 0 },
    },
    byDomain: {
      'example.com': { messages: 2, sent: 1, failed: 1, softBounces: 0 },
      'other.example': { messages: 2, sent: 1, failed: 1, softBounces: 3 },
      '(no domain)': { messages: 1, sent: 0, failed: 1, softBounces: 0 },
    },
    statusRecords: 12,
  });

  // The compacted topic: its latest snapshot is the final one, and no snapshot ever went backwards.
  const snaps = (await kpis.until((ks) => ks.filter((k) => k.deliveryId === D).at(-1)?.statusRecords === 12)).filter((k) => k.deliveryId === D);
  assert.deepEqual(snaps.at(-1), final);
  for (let i = 1; i < snaps.length; i++) assert.ok(snaps[i]!.statusRecords >= snaps[i - 1]!.statusRecords, 'snapshots never regress');
  const list = (await (await fetch(`http://127.0.0.1:${svc!.port}/deliveries`)).json()) as { deliveries: DeliveryKpis[] };
  assert.deepEqual(list.deliveries.find((d) => d.deliveryId === D), final);
  assert.equal(await svc!.stop('SIGTERM'), 0);
});
