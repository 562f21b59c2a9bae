import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { until, kafkaFixture, type KafkaFixture } from '@mta/testkit';
import type { Topics } from '@mta/contracts';
import type { LogSink } from '@mta/kafka';
import { StateTopic, type StateRecord } from '../src/state-topic.ts';

/**
 * The shaping state topic's replay at start (state-topic.ts) on the real broker: records written
 * before the start are all applied before start() returns; when the replay cannot finish within
 * its bound, start() returns anyway (the lanes start from what was read); records keep being
 * applied as they arrive.
 */
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let topics: Topics;
let fx: KafkaFixture;
const logged: string[] = [];
const log: LogSink = { info: () => {}, warn: (_f, m) => void logged.push(m), error: (_f, m) => void logged.push(m), debug: () => {} };
const command = (n: number): StateRecord => ({ v: 1, kind: 'command', key: `cmd|site:s${n}.test`, action: 'resume', selector: { site: `s${n}.test` }, by: 'test', at: new Date(0).toISOString(), owner: 'test' });

before(async () => {
  fx = await kafkaFixture('throttle-state-topic');
  ({ kafka, admin, producer, topics } = fx);
});

after(async () => {
  await fx.close();
});

test('state topic: what was written before the start is applied before start() returns', async () => {
  await producer.send({ topic: topics.shaping, messages: [1, 2, 3, 4].map((n) => ({ key: `cmd|site:s${n}.test`, value: JSON.stringify(command(n)) })) });
  const seen: StateRecord[] = [];
  const state = new StateTopic(kafka, topics.shaping, (r) => seen.push(r), log);
  try {
    const n = await state.start(admin);
    // A rejoin of the replaying consumer (it never commits) reads records again: applying the same
    // state twice is harmless, so only the set of keys is exact.
    assert.ok(n >= 4, `${n} records applied`);
    assert.deepEqual([...new Set(seen.map((r) => r.key))].sort(), [1, 2, 3, 4].map((n) => `cmd|site:s${n}.test`));
  } finally {
    await state.stop();
  }
});

test('state topic: a replay that cannot finish within its bound (a broker that accepts and never answers) lets the lanes start', async () => {
  // A peer that takes the connection and never says a word: kafkajs waits for its request timeout
  // and retries, so connecting alone would hold the replay (and the lanes) for minutes.
  const sockets: Socket[] = [];
  const silent = createServer((s) => void sockets.push(s));
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  const port = (silent.address() as AddressInfo).port;
  const mute = new Kafka({ clientId: 'throttle-state-mute', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING });
  logged.length = 0;
  const state = new StateTopic(mute, 'mta.shaping', () => {}, log);
  try {
    const started = Date.now();
    const n = await state.start({ fetchTopicOffsets: async () => [] }, 500);
    assert.equal(n, 0);
    assert.ok(Date.now() - started < 5000, `start() returned at its bound (${Date.now() - started} ms)`);
    assert.ok(logged.includes('shaping state not fully replayed in time; starting anyway'), logged.join('; '));
  } finally {
    await Promise.race([state.stop().catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
    for (const s of sockets) s.destroy();
    silent.close();
  }
});

test('state topic: records written after the start are applied as they arrive', async () => {
  const seen: StateRecord[] = [];
  const state = new StateTopic(kafka, topics.shaping, (r) => seen.push(r), log);
  try {
    await state.start(admin);
    await producer.send({ topic: topics.shaping, messages: [{ key: 'cmd|site:s5.test', value: JSON.stringify(command(5)) }] });
    await until('the record written after the start', async () => seen.find((r) => r.key === 'cmd|site:s5.test'));
    assert.deepEqual([...new Set(seen.map((r) => r.key))].sort(), [1, 2, 3, 4, 5].map((n) => `cmd|site:s${n}.test`), 'the four earlier records and the new one');
  } finally {
    await state.stop();
  }
});
