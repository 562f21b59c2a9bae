import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttemptCodec, DeliveryCodec } from '@mta/contracts';
import { createSenderHandler } from '../src/handler.ts';
import { expiredAttempt } from '../src/expired.ts';
import { delivery } from './support/fixtures.ts';

const topics = { attempts: 'mta.attempts', deadLetter: 'mta.dead-letter' };
const rec = (value: Buffer) => ({ topic: 'mta.deliveries', partition: 0, offset: '1', key: Buffer.from('example.test'), value, headers: {}, timestamp: '1700000000000' });

test('a delivery whose validity ended is not sent: an EEXPIRED attempt carrying the delivery', async () => {
  const d = delivery({ validUntil: new Date(Date.now() - 1000).toISOString(), attempt: 4 });
  let sent = 0;
  const handler = createSenderHandler({ deliver: async () => (sent++, assert.fail('must not send')), topics });
  const out = await handler(rec(DeliveryCodec.encode(d)));
  assert.equal(sent, 0);
  assert.equal(out.length, 1);
  const a = AttemptCodec.decode(out[0]!.value as Buffer);
  assert.ok(a.ok, a.ok ? '' : a.error.message);
  assert.equal(a.value.outcome, 'failed');
  assert.equal(a.value.error?.code, 'EEXPIRED');
  assert.equal(a.value.attempt, 4);
  assert.deepEqual(a.value.delivery, d);
});

test('expiredAttempt: only at or after validUntil', () => {
  const d = delivery({ validUntil: '2026-01-01T00:00:00.000Z' });
  assert.equal(expiredAttempt(d, new Date('2025-12-31T23:59:59.999Z')), undefined);
  assert.equal(expiredAttempt(d, new Date('2026-01-01T00:00:00.000Z'))?.error?.code, 'EEXPIRED');
});

test('a failed attempt carries its delivery (for the retry); a delivered one does not', async () => {
  const d = delivery();
  const base = { v: 1 as const, messageId: d.messageId, deliveryId: d.deliveryId, recipient: d.to, recipientDomain: d.recipientDomain, attempt: 1, acceptedAt: d.acceptedAt, validUntil: d.validUntil, startedAt: d.releasedAt, finishedAt: d.releasedAt };
  for (const outcome of ['failed', 'delivered'] as const) {
    const handler = createSenderHandler({ deliver: async () => ({ ...base, outcome }), topics });
    const out = await handler(rec(DeliveryCodec.encode(delivery({ ...d }))));
    const a = AttemptCodec.decode(out[0]!.value as Buffer);
    assert.ok(a.ok);
    assert.equal(a.value.delivery !== undefined, outcome === 'failed', outcome);
  }
});
