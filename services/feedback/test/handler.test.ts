import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InRecord } from '@mta/kafka';
import type { MtaEvent, StatusRecord } from '@mta/contracts';
import { createFeedbackHandler } from '../src/handler.ts';
import { MessageStore } from '../src/message-store.ts';

const topics = { status: 'st', deadLetter: 'dl' };
let offset = 0;
const rec = (value: string | null): InRecord => ({ topic: 'ev', partition: 0, offset: String(offset++), key: Buffer.from('m1'), value: value === null ? null : Buffer.from(value), headers: {}, timestamp: '0' });
const event = (e: Partial<MtaEvent>): string =>
  JSON.stringify({ v: 1, messageId: 'm1', deliveryId: 'd1', recipient: 'a@example.com', event: 'accepted', attempt: 0, timestamp: '2026-11-29T10:00:00Z', ...e });

test('malformed and schema-violating events are dead-lettered; a duplicate publishes nothing', async () => {
  const handle = createFeedbackHandler({ topics, store: new MessageStore(10) });
  for (const bad of ['{not json', event({ event: 'bounced' as never }), null]) {
    const out = await handle(rec(bad));
    assert.equal(out.length, 1);
    assert.equal(out[0]!.topic, 'dl');
  }
  const first = await handle(rec(event({ event: 'delivered', attempt: 1 })));
  assert.equal(first.length, 1);
  assert.equal(first[0]!.key, 'm1');
  assert.equal((JSON.parse(String(first[0]!.value)) as StatusRecord).status, 'sent');
  assert.deepEqual(await handle(rec(event({ event: 'delivered', attempt: 1 }))), []);
});

test('events wait for the rebuild and are then folded in offset order, against the rebuilt state', async () => {
  const store = new MessageStore(10);
  let finish!: () => void;
  const rebuilt = new Promise<void>((r) => (finish = r));
  const handle = createFeedbackHandler({ topics, store, rebuilt });
  const order: string[] = [];
  const pending = [event({ event: 'accepted' }), event({ event: 'soft_bounce', attempt: 1, failure: { type: 'soft', reasonCode: 5, reason: 'Mailbox full', bounceClass: 22, category: 'quota-issues', message: '452' } }), event({ event: 'delivered', attempt: 2 })].map(
    async (v) => {
      const out = await handle(rec(v));
      for (const o of out) order.push((JSON.parse(String(o.value)) as StatusRecord).event);
    },
  );
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(order, [], 'nothing folded before the rebuild');
  // What the rebuild learnt from mta.status: this message was already accepted.
  store.set('m1', 'fold', { status: 'taken_into_account', reported: 1, asyncSoft: false, complaint: false });
  finish();
  await Promise.all(pending);
  assert.deepEqual(order, ['soft_bounce', 'delivered'], 'the acceptance is known from the rebuild; the rest in order');
});
