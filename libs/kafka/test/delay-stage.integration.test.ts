/** The delay-topic stage against the real local Kafka (never mocked). */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Admin, Producer } from 'kafkajs';
import type { DeadLetter } from '@mta/contracts';
import { collect, freshTopics, testKafka } from '@mta/testkit';
import { DelayStage, type InRecord } from '../src/index.ts';

const kafka = testKafka('delay-stage-test');
let admin: Admin;
let producer: Producer;
const silent = { error() {}, warn() {}, info() {}, debug() {} };

before(async () => {
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer();
  await producer.connect();
});
after(async () => {
  await producer.disconnect();
  await admin.disconnect();
});

interface Released {
  n: number;
  notBefore: number;
  handledAt: number;
}

/**
 * Kafka is at least once: a stage that rejoins its group (a rebalance, a failed commit) re-reads
 * the records it released but had not yet committed. The tests count its group joins: with one
 * join, every record must come out exactly once; after a rejoin, a record may come out again,
 * but never out of order and never before its time.
 */
function delayStage(topic: string, out: string, dead: string, groupId: string, joins = { count: 0 }) {
  return new DelayStage({
    service: 'test',
    name: 'delay',
    kafka,
    groupId,
    topics: [topic],
    deadLetterTopic: dead,
    log: { ...silent, info: (_o: object, msg: string) => void (msg === 'joined consumer group' && joins.count++) },
    notBefore: (rec: InRecord) => Number(rec.headers.nb),
    handle: (rec) => {
      const n = Number(rec.value!.toString());
      if (Number.isNaN(n)) throw new Error(`not a number: ${rec.value!.toString()}`);
      const r: Released = { n, notBefore: Number(rec.headers.nb), handledAt: Date.now() };
      // One key, so every release lands in one output partition and the collector sees release order.
      return [{ topic: out, key: 'released', value: JSON.stringify(r) }];
    },
  });
}

const put = (topic: string, partition: number, n: number | string, notBefore: number) =>
  producer.send({ topic, messages: [{ partition, value: String(n), headers: { nb: String(notBefore) } }] });

/** Each value once, in the order of its first appearance. */
const firsts = <T>(xs: T[]) => [...new Set(xs)];

async function committed(groupId: string, topic: string): Promise<number> {
  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  return offsets[0]!.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

test('a held head does not block other partitions; nothing is released before its time; a bad record is dead-lettered', async () => {
  const topics = await freshTopics(admin, 2);
  const out = await collect<Released>(kafka, topics.queue);
  const dead = await collect<DeadLetter>(kafka, topics.deadLetter);
  const groupId = `g-${randomUUID()}`;
  const joins = { count: 0 };
  const s = delayStage(topics.retry2m, topics.queue, topics.deadLetter, groupId, joins);
  await s.start();
  const t = Date.now();
  await put(topics.retry2m, 0, 0, t + 2500); // partition 0: a head due later ...
  await put(topics.retry2m, 0, 1, t); //         ... holds the record behind it (tiers are in release order)
  await put(topics.retry2m, 1, 'oops', t); //    partition 1: a bad record, then
  await put(topics.retry2m, 1, 2, t); //         one due now
  const first = await out.until((rs) => rs.length >= 1, 20000);
  assert.equal(first[0]!.n, 2, 'partition 1 flows while partition 0 is held');
  assert.equal(s.heldPartitions().length, 1);
  assert.ok((s.oldest() ?? 0) > 0, 'the watchdog sees the held head');
  const all = await out.until((rs) => firsts(rs.map((r) => r.n)).length === 3, 20000);
  for (const r of all) assert.ok(r.handledAt >= r.notBefore, `record ${r.n} released ${r.handledAt - r.notBefore} ms after its time, never before`);
  assert.deepEqual(firsts(all.map((r) => r.n)), [2, 0, 1]);
  const d = await dead.until((rs) => rs.length >= 1, 20000);
  for (const x of d) {
    assert.equal(x.error.code, 'internal_error');
    assert.match(x.error.message, /not a number/);
  }
  // Offsets committed once the outputs were acknowledged: all four records.
  for (let i = 0; i < 100 && (await committed(groupId, topics.retry2m)) < 4; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await committed(groupId, topics.retry2m), 4);
  if (joins.count === 1) {
    assert.deepEqual(out.records.map((r) => r.value.n), [2, 0, 1], 'one join: each record released once');
    assert.equal(dead.records.length, 1, 'one join: the bad record dead-lettered once');
  }
  await s.stop(5000);
  await Promise.all([out.stop(), dead.stop()]);
});

test('a restart while records are held: nothing lost, nothing duplicated', async () => {
  const topics = await freshTopics(admin, 1);
  const out = await collect<Released>(kafka, topics.queue);
  const groupId = `g-${randomUUID()}`;
  const t = Date.now();
  for (const n of [0, 1, 2]) await put(topics.retry2m, 0, n, t + 4000);
  const s1 = delayStage(topics.retry2m, topics.queue, topics.deadLetter, groupId);
  await s1.start();
  for (let i = 0; i < 200 && s1.heldPartitions().length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(s1.heldPartitions().length, 1, 'the first instance holds the partition');
  await s1.stop(5000);
  assert.equal(out.records.length, 0, 'nothing released before its time');
  assert.equal(await committed(groupId, topics.retry2m), 0, 'nothing held was committed');

  const joins = { count: 0 };
  const s2 = delayStage(topics.retry2m, topics.queue, topics.deadLetter, groupId, joins);
  await s2.start();
  await out.until((rs) => rs.length >= 3, 30000);
  await put(topics.retry2m, 0, 3, Date.now()); // a marker behind them: once it is out, nothing else is coming
  await out.until((rs) => rs.some((r) => r.n === 3), 20000);
  const ns = out.records.map((r) => r.value.n);
  // The restart itself duplicates nothing: with one join of the new instance, each record comes
  // out exactly once; only a later rejoin may re-read records released but not yet committed.
  if (joins.count === 1) assert.deepEqual(ns, [0, 1, 2, 3], 'each record once, in order');
  else assert.deepEqual(firsts(ns), [0, 1, 2, 3], `in order (${joins.count} joins: ${ns.join(',')})`);
  for (const r of out.records) assert.ok(r.value.handledAt >= r.value.notBefore);
  await s2.stop(5000);
  await out.stop();
});
