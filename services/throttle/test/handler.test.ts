import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryCodec, QueuedMessageCodec, type QueuedMessage } from '@mta/contracts';
import { parseShapingRules } from '@mta/shaping';
import { createThrottleHandler } from '../src/handler.ts';
import { Limiter } from '../src/limiter.ts';
import { Shaper } from '../src/shaper.ts';

const topics = { deliveries: 'd', events: 'e', deadLetter: 'dl' };
const rules = (() => {
  const p = parseShapingRules('defaults: { messagesPerSecond: 1000, maxConnections: 7, messagesPerConnection: 50 }\n');
  assert.ok(p.ok);
  return p.rules;
})();

test('a released message is the queued record with the release fields appended: the bytes a full re-encode gives', async () => {
  const now = new Date('2026-11-29T08:00:00.000Z');
  const handle = createThrottleHandler({
    topics,
    limiter: new Limiter(),
    shaper: new Shaper({ rules: () => rules, owner: 't', now: () => now.getTime() }),
    sites: { resolve: async (domain: string) => ({ site: domain, hosts: [domain] }) },
    now: () => now,
  });
  const m: QueuedMessage = {
    v: 1,
    messageId: 'm-1',
    deliveryId: 'd-1',
    from: 'Brand <news@brand.example>',
    mailFrom: 'news@brand.example',
    to: 'u@example.test',
    recipientDomain: 'example.test',
    content: { kind: 'structured', subject: 'Hi "there"', text: 'Grüße\n'.repeat(800) },
    acceptedAt: '2026-11-29T07:59:00.000Z',
    validUntil: '2026-12-02T07:59:00.000Z',
    attempt: 1,
  };
  const value = QueuedMessageCodec.encode(m);
  const out = await handle({ topic: 'q', partition: 0, offset: '0', key: Buffer.from('example.test'), value, headers: {}, timestamp: String(now.getTime()) });
  assert.equal(out.length, 1);
  const expected = DeliveryCodec.encode({ ...m, releasedAt: now.toISOString(), limits: { maxConnections: 7, messagesPerConnection: 50 } });
  assert.equal(out[0]!.value.toString(), expected.toString());
  const decoded = DeliveryCodec.decode(out[0]!.value as Buffer);
  assert.ok(decoded.ok);
  assert.equal(decoded.value.releasedAt, now.toISOString());
  // Not re-encoded: the input's own bytes (here indented) lead the delivery record.
  const indented = Buffer.from(JSON.stringify(m, null, 1));
  const [again] = await handle({ topic: 'q', partition: 0, offset: '1', key: Buffer.from('example.test'), value: indented, headers: {}, timestamp: String(now.getTime()) });
  assert.ok((again!.value as Buffer).subarray(0, indented.length - 2).equals(indented.subarray(0, indented.length - 2)));
  assert.deepEqual(DeliveryCodec.decode(again!.value as Buffer), decoded);
});
