import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { TOPIC_ENV } from '@mta/config';
import { AttemptCodec, MtaEventCodec, type Attempt, type Delivery, type MtaEvent, type Topics } from '@mta/contracts';
import { collect, startService, until, type ServiceProcess, kafkaFixture, type KafkaFixture } from '@mta/testkit';
import { queued } from './support/queued.ts';

/**
 * Complaints through Kafka: the classifier's complaint events on mta.events feed the complaint
 * ratio rule of the (IP, site) lane (complaints / deliveries in the window): above the
 * throttle threshold the rate goes down, above the suspend threshold the lane is suspended.
 * Lanes are keyed by domain here (MTA_THROTTLE_SITE=domain: no DNS needed).
 */
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let topics: Topics;
let fx: KafkaFixture;
let env: Record<string, string>;
const DOMAIN = 'complaints.test';
const LANE = `-|${DOMAIN}`;

before(async () => {
  fx = await kafkaFixture('throttle-complaints');
  ({ kafka, admin, producer, topics } = fx);
  const dir = mkdtempSync(join(tmpdir(), 'throttle-complaints-'));
  writeFileSync(
    join(dir, 'rules.yaml'),
    [
      'defaults: { messagesPerSecond: 20 }',
      'adaptive: { enabled: true, minRate: 1, maxRate: 100, decrease: 0.5, intervalS: 3600 }',
      'ratios:',
      '  complaint: { throttle: 0.1, suspend: 0.3, suspendS: 600, minSamples: 10, windowS: 3600 }',
      '',
    ].join('\n'),
  );
  env = { KAFKA_BROKERS: process.env.KAFKA_BROKERS!, MTA_THROTTLE_SITE: 'domain', MTA_THROTTLE_RULES: join(dir, 'rules.yaml'), MTA_GROUP_ID: `throttle-complaints-${randomUUID()}` };
  for (const [id, name] of Object.entries(topics)) env[TOPIC_ENV[id as keyof Topics]] = name;
});

after(async () => {
  await fx.close();
});

const delivered = (): Attempt => {
  const now = new Date().toISOString();
  return {
    v: 1, messageId: `a-${randomUUID()}`, deliveryId: 'd1', recipient: `u@${DOMAIN}`, recipientDomain: DOMAIN, attempt: 1,
    acceptedAt: now, validUntil: now, startedAt: now, finishedAt: now, outcome: 'delivered',
    smtp: { code: 250, response: '250 OK' }, route: { site: `mx.${DOMAIN}`, host: `mx.${DOMAIN}`, port: 25, via: 'mx' },
  };
};

const complaint = (): MtaEvent => ({
  v: 1, messageId: `c-${randomUUID()}`, deliveryId: '', recipient: `someone@${DOMAIN}`, event: 'complaint', attempt: 0, timestamp: new Date().toISOString(),
  failure: { type: 'hard', reasonCode: 8, reason: 'Denylisted address', bounceClass: 90, category: 'complaint', message: 'feedback-loop report (abuse)' },
});

type LaneView = { key: string; state: string; limits: { messagesPerSecond: number }; sinceLastChange: { delivered: number }; lastChange: { reason: string } };
async function lane(t: ServiceProcess): Promise<LaneView | undefined> {
  const r = await fetch(`http://127.0.0.1:${t.port}/shaping/lanes`);
  return ((await r.json()) as { lanes: LaneView[] }).lanes.find((l) => l.key === LANE);
}
test('complaints on mta.events drive the lane\'s complaint ratio rule: throttle down, then suspend', async () => {
  const deliveries = await collect<Delivery>(kafka, topics.deliveries);
  const throttle = await startService('throttle', env);
  try {
    await producer.send({ topic: topics.queue, messages: [{ key: DOMAIN, value: JSON.stringify(queued(0, DOMAIN)) }] });
    await deliveries.until((r) => r.length >= 1); // the lane exists
    // deliveries until the lane has seen at least minSamples (sent until the learning stage has joined)
    const seen = await until('the lane to count 10 deliveries', async () => {
      await producer.send({ topic: topics.attempts, messages: Array.from({ length: 5 }, () => ({ key: 'k', value: AttemptCodec.encode(delivered()) })) });
      const l = await lane(throttle);
      return l && l.sinceLastChange.delivered >= 10 ? l : undefined;
    });
    // the count once no more deliveries arrive
    let n = seen.sinceLastChange.delivered;
    for (;;) {
      await new Promise((r) => setTimeout(r, 700));
      const now = (await lane(throttle))!.sinceLastChange.delivered;
      if (now === n) break;
      n = now;
    }
    assert.equal(seen.limits.messagesPerSecond, 20);
    // complaints ≥ 10 % of the deliveries: rate × 0.5
    const first = Math.ceil(0.1 * n);
    await producer.send({ topic: topics.events, messages: Array.from({ length: first }, () => ({ key: 'c', value: MtaEventCodec.encode(complaint()) })) });
    const throttled = await until('the complaint ratio to throttle the lane', async () => {
      const l = await lane(throttle);
      return l && l.limits.messagesPerSecond === 10 ? l : undefined;
    });
    assert.match(throttled.lastChange.reason, /complaint ratio .* ≥ 10 % over \d+ attempts → rate 20 → 10 msg\/s/);
    assert.equal(throttled.state, 'active');
    // ≥ 30 %: suspended
    await producer.send({ topic: topics.events, messages: Array.from({ length: Math.ceil(0.3 * n) - first }, () => ({ key: 'c', value: MtaEventCodec.encode(complaint()) })) });
    const suspended = await until('the complaint ratio to suspend the lane', async () => {
      const l = await lane(throttle);
      return l && l.state === 'suspended' ? l : undefined;
    });
    assert.match(suspended.lastChange.reason, /complaint ratio .* ≥ 30 % over \d+ attempts → suspend for 600 s/);
  } finally {
    await deliveries.stop();
    await throttle.stop();
  }
});
