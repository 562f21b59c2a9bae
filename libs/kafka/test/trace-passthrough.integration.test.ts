/** A Stage in a process without a tracing SDK (the default) on the real Kafka: trace headers pass through. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { freshTopics, testKafka } from '@mta/testkit';
import { Stage, headersToStrings } from '../src/index.ts';

const kafka = testKafka('passthrough-test');
const silent = { error() {}, warn() {}, info() {}, debug() {} };
let admin: Admin;
before(async () => {
  admin = kafka.admin();
  await admin.connect();
});
after(() => admin.disconnect());

test('without tracing, a record produced by a stage carries the trace context of the record it came from', async () => {
  const topics = await freshTopics(admin, 1);
  const s = new Stage({
    service: 'passthrough-test',
    kafka,
    groupId: `g-${randomUUID()}`,
    topics: [topics.requests],
    deadLetterTopic: topics.deadLetter,
    log: silent,
    handle: (rec) => [{ topic: topics.queue, key: rec.key!.toString(), value: rec.value!, headers: { traceparent: 'stale', own: 'kept' } }],
  });
  await s.start();
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const p = kafka.producer();
  await p.connect();
  await p.send({
    topic: topics.requests,
    messages: [
      { key: 'traced', value: '1', headers: { traceparent, tracestate: 'a=b', unrelated: 'not copied' } },
      { key: 'untraced', value: '2' },
    ],
  });
  const consumer = kafka.consumer({ groupId: `t-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: topics.queue, fromBeginning: true });
  const seen = new Map<string, Record<string, string>>();
  await consumer.run({ eachMessage: async ({ message }) => void seen.set(message.key!.toString(), headersToStrings(message.headers)) });
  const deadline = Date.now() + 20000;
  while (seen.size < 2) {
    assert.ok(Date.now() < deadline, `outputs: ${seen.size}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await Promise.all([consumer.disconnect(), p.disconnect(), s.stop(5000)]);
  assert.deepEqual(seen.get('traced'), { traceparent, tracestate: 'a=b', own: 'kept' });
  assert.deepEqual(seen.get('untraced'), { traceparent: 'stale', own: 'kept' }, "without incoming context the handler's headers are left alone");
});
