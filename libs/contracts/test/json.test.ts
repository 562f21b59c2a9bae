import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringifyJson } from '../src/json.ts';

test('stringifyJson gives what JSON.stringify gives', () => {
  const long = 'Lorem ipsum dolor sit amet, '.repeat(200);
  class K {
    a = 1;
  }
  const values: unknown[] = [
    null, true, false, 0, -0, 1.5, -1e21, NaN, Infinity, '', 'plain', long, 'quote " and \\ backslash', 'tab\tnew\nline\r\u0000\u001f\u007f',
    'é日本語😀', 'lone \ud800 surrogate', 'lone \udfff low', '\u2028\u2029', [], [1, 'a', null, undefined, () => 1, Symbol('s'), [2]],
    {}, { a: 1, b: undefined, c: () => 1, d: Symbol('x'), e: null, 'k"ey': 'v', '\n': 1 }, { 2: 'two', 1: 'one', b: 'b', a: 'a' },
    { nested: { deeper: { list: [{ x: long }, 'é'] } } }, new Date(0), { when: new Date(0) }, { toJSON: () => 'custom' }, new K(), Object.create(null),
    { v: 1, messageId: 'm-1', content: { kind: 'structured', subject: 'Hi', text: long, headers: { 'X-A': 'b' } }, attempt: 1 },
  ];
  for (const v of values) assert.equal(stringifyJson(v), JSON.stringify(v), String(JSON.stringify(v)).slice(0, 60));
  assert.equal(stringifyJson(undefined), JSON.stringify(undefined));
  assert.throws(() => stringifyJson({ big: 1n }), TypeError);
});

test('appendJsonFields: the fields added to the encoded object, as JSON.stringify of the spread object', async () => {
  const { appendJsonFields } = await import('../src/json.ts');
  const m = { v: 1, messageId: 'm-1', content: { kind: 'structured', text: 'x "y" é'.repeat(100) }, attempt: 2 };
  const fields = { releasedAt: '2026-11-29T08:00:00.000Z', limits: { maxConnections: 5, messagesPerConnection: 100 }, sourceIp: undefined, tls: 'required' };
  const out = appendJsonFields(Buffer.from(JSON.stringify(m)), fields);
  assert.equal(out?.toString(), JSON.stringify({ ...m, ...fields }));
  assert.equal(appendJsonFields(Buffer.from(`${JSON.stringify(m)} \n`), { a: 1 })?.toString(), JSON.stringify({ ...m, a: 1 }));
  assert.equal(appendJsonFields(Buffer.from('{}'), { a: 1 }), undefined);
  assert.equal(appendJsonFields(Buffer.from('[1]'), { a: 1 }), undefined);
  assert.equal(appendJsonFields(Buffer.from(''), { a: 1 }), undefined);
  assert.deepEqual(JSON.parse(appendJsonFields(Buffer.from(' { "a" : 1 } '), { b: [1] })!.toString()), { a: 1, b: [1] });
});

test('codecs of records that carry a message body encode as JSON.stringify does', async () => {
  const { QueuedMessageCodec, AttemptCodec } = await import('../src/index.ts');
  const m = { v: 1 as const, messageId: 'm', deliveryId: 'd', from: 'a@b.test', mailFrom: 'a@b.test', to: 'c@d.test', recipientDomain: 'd.test', content: { kind: 'structured' as const, subject: 's "q"', text: 'x\n'.repeat(3000) }, acceptedAt: 't', validUntil: 'u', attempt: 1 };
  assert.equal(QueuedMessageCodec.encode(m).toString(), JSON.stringify(m));
  const a = { v: 1 as const, messageId: 'm', deliveryId: 'd', recipient: 'c@d.test', recipientDomain: 'd.test', attempt: 1, acceptedAt: 't', validUntil: 'u', startedAt: 's', finishedAt: 'f', outcome: 'failed' as const };
  const delivery = { ...m, releasedAt: 'r', limits: { maxConnections: 1, messagesPerConnection: 1 } };
  assert.equal(AttemptCodec.encode(a).toString(), JSON.stringify(a));
  assert.equal(AttemptCodec.encode({ ...a, delivery }).toString(), JSON.stringify({ ...a, delivery }));
});
