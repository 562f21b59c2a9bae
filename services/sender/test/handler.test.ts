import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttemptCodec, DeadLetterCodec, DeliveryCodec, type Attempt, type Delivery } from '@mta/contracts';
import type { InRecord } from '@mta/kafka';
import { SeenWindow } from '@mta/kafka';
import { createSenderHandler } from '../src/handler.ts';
import { delivery } from './support/fixtures.ts';

const topics = { attempts: 'mta.attempts', deadLetter: 'mta.dead-letter' };

function record(value: Buffer | null, key = 'example.test'): InRecord {
  return { topic: 'mta.deliveries', partition: 0, offset: '7', key: Buffer.from(key), value, headers: {}, timestamp: '1700000000000' };
}

function attemptOf(d: Delivery, outcome: Attempt['outcome']): Attempt {
  return {
    v: 1, messageId: d.messageId, deliveryId: d.deliveryId, recipient: d.to, recipientDomain: d.recipientDomain, attempt: d.attempt,
    acceptedAt: d.acceptedAt, validUntil: d.validUntil, startedAt: d.releasedAt, finishedAt: d.releasedAt, outcome,
  };
}

test('a delivery becomes one attempt record keyed by messageId', async () => {
  const d = delivery();
  const handler = createSenderHandler({ deliver: async (x) => attemptOf(x, 'delivered'), topics });
  const out = await handler(record(DeliveryCodec.encode(d)));
  assert.equal(out.length, 1);
  assert.equal(out[0]!.topic, 'mta.attempts');
  assert.equal(out[0]!.key, d.messageId);
  const a = AttemptCodec.decode(out[0]!.value as Buffer);
  assert.ok(a.ok);
  assert.equal(a.value.outcome, 'delivered');
});

test('undecodable records are dead-lettered with the specific problem', async () => {
  let called = 0;
  const handler = createSenderHandler({ deliver: async (x) => (called++, attemptOf(x, 'delivered')), topics });
  const cases: [Buffer | null, string, RegExp][] = [
    [Buffer.from('{nope'), 'malformed_json', /malformed JSON/],
    [null, 'malformed_json', /no value/],
    [Buffer.from(JSON.stringify({ ...delivery(), limits: undefined })), 'schema_violation', /limits/],
  ];
  for (const [value, code, re] of cases) {
    const out = await handler(record(value));
    assert.equal(out.length, 1);
    assert.equal(out[0]!.topic, 'mta.dead-letter');
    const dl = DeadLetterCodec.decode(out[0]!.value as Buffer);
    assert.ok(dl.ok);
    assert.equal(dl.value.error.code, code);
    assert.match(dl.value.error.message, re);
    assert.equal(dl.value.service, 'sender');
    assert.equal(dl.value.source.offset, '7');
  }
  assert.equal(called, 0);
});

test('a replayed record of a delivered attempt is not sent again and produces nothing', async () => {
  const d = delivery();
  let sends = 0;
  const handler = createSenderHandler({ deliver: async (x) => (sends++, attemptOf(x, 'delivered')), topics, dedupe: new SeenWindow(10, Infinity) });
  assert.equal((await handler(record(DeliveryCodec.encode(d)))).length, 1);
  assert.deepEqual(await handler(record(DeliveryCodec.encode(d))), []);
  assert.equal(sends, 1);
  // The next attempt of the same message is a different key.
  assert.equal((await handler(record(DeliveryCodec.encode({ ...d, attempt: 2 })))).length, 1);
  assert.equal(sends, 2);
});

test('a replay of a failed attempt is tried again; a replay while the first is in flight is skipped', async () => {
  const d = delivery();
  let sends = 0;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const handler = createSenderHandler({
    deliver: async (x) => {
      sends++;
      await gate;
      return attemptOf(x, 'failed');
    },
    topics,
  });
  const first = handler(record(DeliveryCodec.encode(d)));
  assert.deepEqual(await handler(record(DeliveryCodec.encode(d))), [], 'in-flight duplicate skipped');
  release();
  assert.equal((await first).length, 1);
  assert.equal((await handler(record(DeliveryCodec.encode(d)))).length, 1, 'failed attempt may be retried');
  assert.equal(sends, 2);
});

test('the dedupe LRU is bounded and refreshes on hit', () => {
  const dd = new SeenWindow(2, Infinity);
  dd.add('a');
  dd.add('b');
  assert.ok(dd.has('a'));
  dd.add('c');
  assert.ok(dd.has('a'));
  assert.ok(!dd.has('b'), 'least recently used evicted');
  assert.ok(dd.has('c'));
  assert.equal(dd.size, 2);
});
