import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { TOPIC_ENV } from '@mta/config';
import type { Attempt, Delivery, Topics } from '@mta/contracts';
import { collect, startDns, startService, until, type FakeDns, type ServiceProcess, kafkaFixture, type KafkaFixture } from '@mta/testkit';
import { queued } from './support/queued.ts';

/**
 * The throttle bundle on the real broker with a real DNS: lanes per site from MX, learning from
 * mta.attempts, learned state on the compacted topic and back after a restart, operator API.
 */
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let topics: Topics;
let fx: KafkaFixture;
let dns: FakeDns;
let env: Record<string, string>;
const TOKEN = 'secret-token';
const SITE = 'gmail-smtp-in.l.google.com';

const RULES = `
defaults: { messagesPerSecond: 50, maxConnections: 7, messagesPerConnection: 30 }
adaptive: { enabled: true, minRate: 1, maxRate: 100, increase: 1, decrease: 0.5, intervalS: 1 }
providers:
  google:
    match: [.google.com]
    messagesPerSecond: 40
    maxConnections: 5
    tls: required
    automation:
      - { pattern: '4\\.7\\.28', trigger: immediate, action: lower-rate, factor: 0.5, durationS: 600 }
`;

const attempt = (domain: string, response: string | undefined): Attempt => {
  const now = new Date().toISOString();
  return {
    v: 1,
    messageId: `a-${randomUUID()}`,
    deliveryId: 'd1',
    recipient: `x@${domain}`,
    recipientDomain: domain,
    attempt: 1,
    acceptedAt: now,
    validUntil: now,
    startedAt: now,
    finishedAt: now,
    route: { site: SITE, host: SITE, port: 25, via: 'mx' },
    ...(response === undefined
      ? { outcome: 'failed' as const, error: { code: 'ETIMEDOUT', message: 'Connection timeout (local)' } }
      : { outcome: 'failed' as const, error: { code: 'EENVELOPE', message: response, responseCode: 421, response }, smtp: { code: 421, response } }),
  };
};

async function lanes(t: ServiceProcess) {
  const r = await fetch(`http://127.0.0.1:${t.port}/shaping/lanes`);
  return ((await r.json()) as { lanes: { key: string; provider: string | null; limits: { messagesPerSecond: number; maxConnections: number }; lastChange: { reason: string } }[] }).lanes;
}

before(async () => {
  fx = await kafkaFixture('throttle-it');
  ({ kafka, admin, producer, topics } = fx);
  dns = await startDns({
    'workspace.test': { mx: [{ exchange: 'alt1.gmail-smtp-in.l.google.com', priority: 20 }, { exchange: SITE, priority: 10 }] },
    'other.test': { mx: [{ exchange: 'mx.other.test', priority: 10 }] },
  });
  const dir = mkdtempSync(join(tmpdir(), 'throttle-it-'));
  writeFileSync(join(dir, 'rules.yaml'), RULES);
  env = { KAFKA_BROKERS: process.env.KAFKA_BROKERS!, MTA_DNS_SERVER: dns.server, MTA_THROTTLE_RULES: join(dir, 'rules.yaml'), MTA_ADMIN_TOKEN: TOKEN, MTA_GROUP_ID: `throttle-it-${randomUUID()}` };
  for (const [id, name] of Object.entries(topics)) env[TOPIC_ENV[id as keyof Topics]] = name;
});

after(async () => {
  await fx.close();
  await dns.close();
});

test('throttle: lanes per MX site with provider limits, learning from attempts, state kept across a restart', async () => {
  const deliveries = await collect<Delivery>(kafka, topics.deliveries);
  let throttle = await startService('throttle', env);
  try {
    await producer.send({ topic: topics.queue, messages: [queued(1, 'workspace.test'), queued(2, 'other.test')].map((m) => ({ key: m.recipientDomain, value: JSON.stringify(m) })) });
    const out = await deliveries.until((r) => r.length >= 2);
    const byDomain = new Map(out.map((d) => [d.recipientDomain, d]));
    assert.deepEqual(byDomain.get('workspace.test')!.limits, { maxConnections: 5, messagesPerConnection: 30 }); // provider google via MX suffix
    assert.deepEqual(byDomain.get('other.test')!.limits, { maxConnections: 7, messagesPerConnection: 30 }); // defaults
    // the provider's TLS policy goes to the sender; no layer sets one for other.test: the sender's default applies
    assert.deepEqual([byDomain.get('workspace.test')!.tls, byDomain.get('other.test')!.tls], ['required', undefined]);
    const googleLane = `-|alt1.${SITE},${SITE}`;
    assert.ok((await lanes(throttle)).some((l) => l.key === googleLane && l.provider === 'google' && l.limits.messagesPerSecond === 40));

    // our own transport errors never change a lane
    await producer.send({ topic: topics.attempts, messages: Array.from({ length: 5 }, () => ({ key: 'k', value: JSON.stringify(attempt('workspace.test', undefined)) })) });
    // Gmail's rate deferral: the automation rule halves the rate (attempts are re-sent until the learning stage has joined)
    const lane = await until('the lane to learn from 4.7.28', async () => {
      await producer.send({ topic: topics.attempts, messages: [{ key: 'k', value: JSON.stringify(attempt('workspace.test', '421 4.7.28 [192.0.2.1] Our system has detected an unusual rate of unsolicited mail')) }] });
      return (await lanes(throttle)).find((l) => l.key === googleLane && l.limits.messagesPerSecond === 20);
    });
    assert.match(lane.lastChange.reason, /providers\.google\.automation\[0\].*4\.7\.28.*lower the rate ×0\.5 for 600 s \(40 → 20 msg\/s\)/);

    // operator surface: changes need the bearer token
    const post = (path: string, body: unknown, token?: string) =>
      fetch(`http://127.0.0.1:${throttle.port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
    assert.equal((await post('/shaping/suspend', { provider: 'google', durationS: 60 })).status, 401);
    assert.equal((await post('/shaping/suspend', { provider: 'google', durationS: 60 }, 'wrong')).status, 401);
    const ok = await post('/shaping/suspend', { provider: 'google', durationS: 60, by: 'test' }, TOKEN);
    assert.equal(ok.status, 200);
    assert.deepEqual(((await ok.json()) as { suspended: string[] }).suspended, [googleLane]);
    const suspended = (await lanes(throttle)).find((l) => l.key === googleLane) as unknown as { state: string; lastChange: { reason: string } };
    assert.equal(suspended.state, 'suspended');
    assert.match(suspended.lastChange.reason, /suspended by operator test for 60 s/);
    assert.equal((await post('/shaping/resume', { provider: 'google' }, TOKEN)).status, 200);

    // the learned state is on the compacted topic; a restarted throttle starts the lane from it
    const state = await collect<{ key: string; state: { rate: number } }>(kafka, topics.shaping);
    await state.until((r) => r.some((x) => x.key === googleLane && x.state.rate === 20));
    await state.stop();
    assert.equal(await throttle.stop(), 0);
    throttle = await startService('throttle', env);
    await producer.send({ topic: topics.queue, messages: [queued(3, 'workspace.test')].map((m) => ({ key: m.recipientDomain, value: JSON.stringify(m) })) });
    await deliveries.until((r) => r.length >= 3);
    const after = (await lanes(throttle)).find((l) => l.key === googleLane)!;
    assert.equal(after.limits.messagesPerSecond, 20);
    assert.match(after.lastChange.reason, /resumed by operator/);
  } finally {
    await deliveries.stop();
    await throttle.stop();
  }
});
