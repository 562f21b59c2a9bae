/**
 * Issue 5 §2 through the throttle: messages that arrive for a suspended lane wait there (no
 * attempt, so no soft bounce and no growing back-off), and when the suspension lifts they leave at
 * the lane's rate, spread out, not in one burst.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TOPICS, type QueuedMessage } from '@mta/contracts';
import type { InRecord, OutRecord } from '@mta/kafka';
import { parseShapingRules } from '@mta/shaping';
import { createThrottleHandler, Limiter, Shaper, siteOf, ANY_IP } from '../src/index.ts';

const topics = { ...DEFAULT_TOPICS };
const site = siteOf(['mx.example.test']);
const message = (i: number): QueuedMessage => ({
  v: 1,
  messageId: `m-${i}`,
  deliveryId: 'd-1',
  from: 'news@brand.test',
  mailFrom: 'news@brand.test',
  to: `u${i}@example.test`,
  recipientDomain: 'example.test',
  content: { kind: 'structured', subject: 'Hi', text: 'Hello' },
  acceptedAt: new Date().toISOString(),
  validUntil: new Date(Date.now() + 600_000).toISOString(),
  attempt: 2,
});
const rec = (m: QueuedMessage): InRecord => ({ topic: topics.queue, partition: 0, offset: '0', key: null, value: Buffer.from(JSON.stringify(m)), headers: {}, timestamp: String(Date.now()) });

test('a suspended lane holds its messages, then releases them at its rate when resumed', async () => {
  const parsed = parseShapingRules('defaults:\n  messagesPerSecond: 10\n  burst: 1\n  maxConnections: 2\n  messagesPerConnection: 10\n');
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.errors.join('; '));
  const rules = parsed.rules;
  const shaper = new Shaper({ rules: () => rules, owner: 'test' });
  const handle = createThrottleHandler({ topics, limiter: new Limiter(), shaper, sites: { resolve: async () => site }, recheckMs: 50 });
  const lane = shaper.lane(ANY_IP, site, 'example.test');
  shaper.suspend([lane], 60, 'test');

  const released: Array<{ at: number; out: OutRecord[] }> = [];
  const pending = Array.from({ length: 8 }, (_, i) => Promise.resolve(handle(rec(message(i)))).then((out: OutRecord[]) => released.push({ at: Date.now(), out })));
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(released.length, 0, 'nothing leaves a suspended lane');

  const resumedAt = Date.now();
  shaper.resume([lane], 'test');
  await Promise.all(pending);
  for (const r of released) assert.deepEqual(r.out.map((o) => o.topic), [topics.deliveries], 'released for delivery, not bounced or expired');
  const times = released.map((r) => r.at - resumedAt).sort((a, b) => a - b);
  // 10 msg/s with a burst of 1: eight messages take at least ~0.7 s, never all at once.
  assert.ok(times.at(-1)! - times[0]! >= 600, `released over ${times.at(-1)! - times[0]!} ms: ${times.join(', ')}`);
  const inFirst100ms = times.filter((t) => t - times[0]! < 100).length;
  assert.ok(inFirst100ms <= 2, `${inFirst100ms} released in the first 100 ms after the resume`);
});
