/** The stage loop against the real local Kafka (never mocked). */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Admin } from 'kafkajs';
import type { DeadLetter } from '@mta/contracts';
import { collect, freshTopics, testKafka } from '@mta/testkit';
import { Stage, type Handler } from '../src/index.ts';

const kafka = testKafka('stage-test');
let admin: Admin;
const silent = { error() {}, warn() {}, info() {}, debug() {} };
/**
 * Kafka is at least once: a stage that rejoins its group (a rebalance, a failed commit) re-reads
 * what it had not committed yet, so a record can be handled twice. The tests count the stage's
 * group joins: with one join, each record's outputs must appear exactly once; after a rejoin they
 * check which records came out (each value once), not how often.
 */
const joinCounting = (joins: { count: number }) => ({ ...silent, info: (_o: object, msg: string) => void (msg === 'joined consumer group' && joins.count++) });
/** Each value once, in the order of its first appearance. */
const firsts = <T>(xs: T[]) => [...new Set(xs)];

before(async () => {
  admin = kafka.admin();
  await admin.connect();
});
after(async () => admin.disconnect());

async function committed(groupId: string, topic: string): Promise<number> {
  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  return offsets[0]!.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

function stage(topics: { requests: string; queue: string; deadLetter: string }, groupId: string, handle: Handler, joins = { count: 0 }) {
  return new Stage({ service: 'test', kafka, groupId, topics: [topics.requests], deadLetterTopic: topics.deadLetter, handle, log: joinCounting(joins), commitIntervalMs: 200 });
}

test('a slow record does not hold back the records behind it, and a throwing handler dead-letters', async () => {
  const topics = await freshTopics(admin, 1);
  const out = await collect<{ n: number }>(kafka, topics.queue);
  const dead = await collect<DeadLetter>(kafka, topics.deadLetter);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const joins = { count: 0 };
  const s = stage(
    topics,
    `g-${randomUUID()}`,
    async (rec) => {
      const n = Number(rec.value!.toString());
      if (n === 0) await gate; // the first record is slow
      if (n === 2) throw new Error('boom');
      return [{ topic: topics.queue, key: null, value: JSON.stringify({ n }) }];
    },
    joins,
  );
  await s.start();
  const p = kafka.producer();
  await p.connect();
  await p.send({ topic: topics.requests, messages: [0, 1, 2, 3].map((n) => ({ value: String(n) })) });
  const early = await out.until((rs) => firsts(rs.map((r) => r.n)).length === 2, 20000);
  assert.deepEqual(firsts(early.map((r) => r.n)).sort(), [1, 3], 'records 1 and 3 passed the slow record 0');
  const d = await dead.until((rs) => rs.length >= 1, 20000);
  for (const x of d) {
    assert.equal(x.error.code, 'internal_error');
    assert.match(x.error.message, /boom/);
    assert.equal(x.source.offset, '2');
  }
  release();
  const all = await out.until((rs) => rs.some((r) => r.n === 0), 20000);
  assert.deepEqual(firsts(all.map((r) => r.n)).sort(), [0, 1, 3]);
  await s.stop(5000);
  if (joins.count === 1) {
    assert.deepEqual(out.records.map((r) => r.value.n).sort(), [0, 1, 3], 'one join: each output once');
    assert.equal(dead.records.length, 1, 'one join: dead-lettered once');
  }
  await Promise.all([out.stop(), dead.stop(), p.disconnect()]);
});

test('an offset is committed only after its outputs are produced; a restart re-reads the rest', async () => {
  const topics = await freshTopics(admin, 1);
  const groupId = `g-${randomUUID()}`;
  const p = kafka.producer();
  await p.connect();
  await p.send({ topic: topics.requests, messages: [0, 1, 2, 3, 4].map((n) => ({ value: String(n) })) });
  const stuck = stage(topics, groupId, async (rec) => {
    const n = Number(rec.value!.toString());
    if (n === 2) await new Promise(() => undefined); // never finishes: as if the process died here
    return [{ topic: topics.queue, key: null, value: JSON.stringify({ n, run: 1 }) }];
  });
  await stuck.start();
  const out = await collect<{ n: number; run: number }>(kafka, topics.queue);
  await out.until((rs) => firsts(rs.map((r) => r.n)).length === 4, 20000);
  await stuck.stop(500); // gives up on record 2: it must stay uncommitted
  assert.equal(await committed(groupId, topics.requests), 2, 'committed up to the unfinished record, not past it');

  const joins = { count: 0 };
  const again = stage(topics, groupId, (rec) => [{ topic: topics.queue, key: null, value: JSON.stringify({ n: Number(rec.value!.toString()), run: 2 }) }], joins);
  await again.start();
  const all = await out.until((rs) => rs.some((r) => r.run === 2 && r.n === 4), 20000);
  const second = all.filter((r) => r.run === 2).map((r) => r.n);
  assert.deepEqual(firsts(second), [2, 3, 4], 're-read from the first unfinished record');
  await again.stop(5000);
  if (joins.count === 1) assert.deepEqual(out.records.filter((r) => r.value.run === 2).map((r) => r.value.n), [2, 3, 4], 'one join: each record once');
  assert.equal(await committed(groupId, topics.requests), 5);
  await Promise.all([out.stop(), p.disconnect()]);
});

test('lanes: a stuck lane that holds every in-flight slot does not delay another lane; its records are kept, parked or requeued', async () => {
  const topics = await freshTopics(admin, 1);
  const out = await collect<{ id: string }>(kafka, topics.queue);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const s = new Stage({
    service: 'test',
    kafka,
    groupId: `g-${randomUUID()}`,
    topics: [topics.requests],
    deadLetterTopic: topics.deadLetter,
    log: silent, // outputs are compared as sets below: a rejoin's re-read changes nothing here
    commitIntervalMs: 200,
    maxInFlight: 10,
    maxInFlightPerLane: 3,
    laneOf: (rec) => rec.key?.toString(),
    handle: async (rec) => {
      if (rec.key?.toString() === 'stuck.example') await gate; // a site that never answers
      return [{ topic: topics.queue, key: null, value: JSON.stringify({ id: rec.value!.toString() }) }];
    },
  });
  await s.start();
  const p = kafka.producer();
  await p.connect();
  // 30 records of the stuck site first (three times maxInFlight), then 5 of another site behind them.
  const stuck = Array.from({ length: 30 }, (_, i) => `s${i}`);
  const other = Array.from({ length: 5 }, (_, i) => `o${i}`);
  await p.send({ topic: topics.requests, messages: [...stuck.map((id) => ({ key: 'stuck.example', value: id })), ...other.map((id) => ({ key: 'other.example', value: id }))] });
  const early = await out.until((rs) => other.every((id) => rs.some((r) => r.id === id)), 20000);
  assert.deepEqual(firsts(early.map((r) => r.id)).sort(), [...other].sort(), 'the other site went through while the stuck one held its slots');
  assert.ok(s.requeued > 0, 'the stuck records beyond maxInFlight went back to the topic instead of stopping consumption');
  release();
  const all = await out.until((rs) => stuck.every((id) => rs.some((r) => r.id === id)), 30000);
  assert.deepEqual([...new Set(all.map((r) => r.id))].sort(), [...stuck, ...other].sort(), 'every stuck record was handled once released');
  await s.stop(5000);
  await Promise.all([out.stop(), p.disconnect()]);
});
