import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { TOPIC_ENV } from '@mta/config';
import type { Delivery, Topics } from '@mta/contracts';
import { collect, startDns, startService, until, type FakeDns, type ServiceProcess, kafkaFixture, type KafkaFixture } from '@mta/testkit';
import { queued } from './support/queued.ts';

/**
 * Two throttle instances in one group (MTA_THROTTLE_OWNERSHIP=site) on the real broker: the
 * domains of one site (eight Google Workspace domains, spread over mta.queue's partitions by
 * their keys) all reach the one instance that owns the site through mta.queue.site, so the
 * site's lane exists once and its limits hold across instances; an operator's suspend posted to
 * the other instance reaches the owner through mta.shaping, and so does the resume.
 */
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let topics: Topics;
let fx: KafkaFixture;
let dns: FakeDns;
let env: Record<string, string>;
const TOKEN = 'ownership-token';
const SITE = 'aspmx.l.google.com';
const DOMAINS = Array.from({ length: 8 }, (_, i) => `ws${i}.test`);
const LANE = `-|${SITE}`;

type LaneView = { key: string; provider: string | null; state: string; lastChange: { reason: string } };
async function lanes(t: ServiceProcess): Promise<LaneView[]> {
  const r = await fetch(`http://127.0.0.1:${t.port}/shaping/lanes`);
  return ((await r.json()) as { lanes: LaneView[] }).lanes;
}

/** Two instances join two groups each and hand lanes over: a longer wait than testkit's default. */
const WAIT_MS = 60_000;

before(async () => {
  fx = await kafkaFixture('throttle-own');
  ({ kafka, admin, producer, topics } = fx);
  dns = await startDns(Object.fromEntries(DOMAINS.map((d) => [d, { mx: [{ exchange: SITE, priority: 10 }] }])));
  const dir = mkdtempSync(join(tmpdir(), 'throttle-own-'));
  writeFileSync(join(dir, 'rules.yaml'), 'defaults: { messagesPerSecond: 50 }\nproviders:\n  google: { match: [.google.com], messagesPerSecond: 40 }\n');
  env = {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS!,
    MTA_DNS_SERVER: dns.server,
    MTA_THROTTLE_RULES: join(dir, 'rules.yaml'),
    MTA_THROTTLE_OWNERSHIP: 'site',
    MTA_ADMIN_TOKEN: TOKEN,
    MTA_GROUP_ID: `throttle-own-${randomUUID()}`,
  };
  for (const [id, name] of Object.entries(topics)) env[TOPIC_ENV[id as keyof Topics]] = name;
});

after(async () => {
  await fx.close();
  await dns.close();
});

test('two throttle instances: one owner per site (re-keyed by site); operator commands reach every instance', async () => {
  const deliveries = await collect<Delivery>(kafka, topics.deliveries);
  const [a, b] = await Promise.all([startService('throttle', env), startService('throttle', env)]);
  try {
    // Both instances are members of both groups (the re-keying stage on mta.queue, the lanes' stage on mta.queue.site).
    const groups = [env.MTA_GROUP_ID!, `${env.MTA_GROUP_ID}-lanes`];
    await until('both groups stable with two members', async () => {
      const d = await admin.describeGroups(groups);
      return d.groups.every((g) => g.state === 'Stable' && g.members.length === 2) ? true : undefined;
    }, WAIT_MS);
    await producer.send({ topic: topics.queue, messages: DOMAINS.map((d, i) => queued(i, d)).map((m) => ({ key: m.recipientDomain, value: JSON.stringify(m) })) });
    const out = await deliveries.until((r) => r.length >= DOMAINS.length);
    assert.deepEqual(new Set(out.map((d) => d.recipientDomain)), new Set(DOMAINS));
    // mta.queue spreads the domains over its partitions (both instances re-keyed some) ...
    const queueOffsets = await admin.fetchTopicOffsets(topics.queue);
    assert.ok(queueOffsets.filter((o) => Number(o.high) > 0).length >= 2, 'the domains were spread over several mta.queue partitions');
    // ... but the site's lane exists on one instance only: its limits are applied once
    const held = await Promise.all([a, b].map(async (t) => (await lanes(t)).filter((l) => l.key === LANE)));
    assert.deepEqual(held.map((h) => h.length).sort(), [0, 1], `lane ${LANE} held by ${held.map((h) => h.length).join(' / ')}`);
    const [owner, other] = held[0]!.length === 1 ? [a, b] : [b, a];

    // An operator suspend posted to the instance that holds no Google lane reaches the owner.
    const post = (t: ServiceProcess, path: string, body: unknown) =>
      fetch(`http://127.0.0.1:${t.port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body) });
    const res = await post(other, '/shaping/suspend', { provider: 'google', durationS: 600, by: 'carol' });
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as { suspended: string[] }).suspended, []);
    const suspended = await until('the owner to apply the suspension', async () => (await lanes(owner)).find((l) => l.key === LANE && l.state === 'suspended'), WAIT_MS);
    assert.match(suspended.lastChange.reason, /suspended by operator carol/);
    assert.equal((await post(other, '/shaping/resume', { provider: 'google', by: 'carol' })).status, 200);
    const resumed = await until('the owner to apply the resume', async () => (await lanes(owner)).find((l) => l.key === LANE && l.state === 'active'), WAIT_MS);
    assert.match(resumed.lastChange.reason, /resumed by operator carol/);
  } finally {
    await deliveries.stop();
    await Promise.all([a.stop(), b.stop()]);
  }
});
