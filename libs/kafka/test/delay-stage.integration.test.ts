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

function delayStage(topic: string, out: string, dead: string, groupId: string) {
  return new DelayStage({
    service: 'test',
    name: 'delay',
    kafka,
    groupId,
    topics: [topic],
    deadLetterTopic: dead,
    log: silent,
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

async function committed(groupId: string, topic: string): Promise<number> {
  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  return offsets[0]!.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

test('a held head does not block other partitions; nothing is released before its time; a bad record is dead-lettered', async () => {
  const topics = await freshTopics(admin, 2);
  const out = await collect<Released>(kafka, topics.queue);
  const dead = await collect<DeadLetter>(kafka, topics.deadLetter);
  const groupId = `g-${randomUUID()}`;
  const s = delayStage(topics.retry2m, topics.queue, topics.deadLetter, groupId);
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
  const all = await out.until((rs) => rs.length === 3, 20000);
  for (const r of all) assert.ok(r.handledAt >= r.notBefore, `record ${r.n} released ${r.handledAt - r.notBefore} ms after its time, never before`);
  assert.deepEqual(all.map((r) => r.n), [2, 0, 1]);
  const d = await dead.until((rs) => rs.length === 1, 20000);
  assert.equal(d[0]!.error.code, 'internal_error');
  assert.match(d[0]!.error.message, /not a number/);
  // Offsets committed once the outputs were acknowledged: all four records.
  for (let i = 0; i < 100 && (await committed(groupId, topics.retry2m)) < 4; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await committed(groupId, topics.retry2m), 4);
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

  const s2 = delayStage(topics.retry2m, topics.queue, topics.deadLetter, groupId);
  await s2.start();
  const all = await out.until((rs) => rs.length >= 3, 30000);
  await put(topics.retry2m, 0, 3, Date.now()); // a marker behind them: once it is out, nothing else is coming
  await out.until((rs) => rs.some((r) => r.n === 3), 20000);
  assert.deepEqual(out.records.map((r) => r.value.n), [0, 1, 2, 3], 'each record once, in order');
  for (const r of all) assert.ok(r.handledAt >= r.notBefore);
  await s2.stop(5000);
  await out.stop();
});
