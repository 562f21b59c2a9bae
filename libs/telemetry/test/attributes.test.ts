import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { attributeSet, patchAttributeHash } from '../src/attributes.ts';
import { createMetrics } from '../src/metrics.ts';

const require = createRequire(import.meta.url);
const utils = require('@opentelemetry/sdk-metrics/build/src/utils.js') as { hashAttributes(a: object): string };

test('attributeSet: one frozen object per combination of values, with the keys in order', () => {
  const set = attributeSet('phase', 'site', 'outcome');
  const a = set('rcpt', 'gmail', 'ok');
  assert.deepEqual(a, { phase: 'rcpt', site: 'gmail', outcome: 'ok' });
  assert.equal(set('rcpt', 'gmail', 'ok'), a);
  assert.ok(Object.isFrozen(a));
  for (const other of [set('rcpt', 'gmail', 'error'), set('mail', 'gmail', 'ok'), set('rcpt', 'yahoo', 'ok'), set('', '', '')]) assert.notEqual(other, a);
  assert.deepEqual(Object.keys(a), ['phase', 'site', 'outcome'], 'the carried hash is not an enumerable key');
  assert.deepEqual(attributeSet('topic')('mta.queue'), { topic: 'mta.queue' });
});

test('the SDK reads the carried hash, which is its own hash of the object; other objects are hashed as before', () => {
  assert.equal(patchAttributeHash(), true);
  const set = attributeSet('status', 'event');
  const a = set('sent', 'delivered');
  const plain = { event: 'delivered', status: 'sent' };
  // The SDK's hash of the plain object (computed: keys sorted, JSON) equals what the set's object carries.
  assert.equal(utils.hashAttributes(a), utils.hashAttributes(plain));
  assert.equal(utils.hashAttributes(a), '[["event","delivered"],["status","sent"]]');
  assert.equal(utils.hashAttributes({}), '');
});

test('records through an attributeSet and through plain objects land in the same series (Prometheus text)', async () => {
  const m = createMetrics('attributes-test');
  const counter = m.meter.createCounter('mta_test_published');
  const histogram = m.meter.createHistogram('mta_test_seconds', { advice: { explicitBucketBoundaries: [0.1, 1] } });
  const set = attributeSet('status', 'event');
  const phase = attributeSet('phase');
  for (let i = 0; i < 5; i++) counter.add(1, set('sent', 'delivered'));
  counter.add(2, { event: 'delivered', status: 'sent' });
  counter.add(1, set('failed', 'hard_bounce'));
  histogram.record(0.05, phase('rcpt'));
  histogram.record(0.5, { phase: 'rcpt' });
  const text = await m.render();
  assert.match(text, /^mta_test_published_total\{status="sent",event="delivered",[^}]*\} 7$/m);
  assert.match(text, /^mta_test_published_total\{status="failed",event="hard_bounce",[^}]*\} 1$/m);
  assert.equal(text.match(/^mta_test_published_total\{/gm)?.length, 2);
  assert.match(text, /^mta_test_seconds_count\{phase="rcpt",[^}]*\} 2$/m);
  await m.shutdown();
});

test('past 4,096 combinations a set gives plain objects, still counted in the right series', async () => {
  const m = createMetrics('attributes-overflow-test');
  const counter = m.meter.createCounter('mta_test_sites');
  const set = attributeSet('site');
  for (let i = 0; i < 4100; i++) set(`s${i}`);
  const late = set('s4099');
  assert.equal(Object.isFrozen(late), false);
  assert.equal(Object.isFrozen(set('s1')), true);
  counter.add(1, late);
  counter.add(1, { site: 's4099' });
  counter.add(1, set('s1'));
  counter.add(1, { site: 's1' });
  const text = await m.render();
  assert.match(text, /^mta_test_sites_total\{site="s4099",[^}]*\} 2$/m);
  assert.match(text, /^mta_test_sites_total\{site="s1",[^}]*\} 2$/m);
  await m.shutdown();
});
