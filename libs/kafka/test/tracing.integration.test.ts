/**
 * Trace context across two Stages on the real Kafka: an in-memory span exporter records the
 * consumer spans, and the records between the stages carry the W3C `traceparent` header.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Admin, Consumer } from 'kafkajs';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { startTracing, withSpan, type Tracing } from '@mta/telemetry';
import { freshTopics, testKafka } from '@mta/testkit';
import { Stage, headersToStrings, type Handler } from '../src/index.ts';

const kafka = testKafka('trace-test');
const silent = { error() {}, warn() {}, info() {}, debug() {} };
const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let admin: Admin;

before(async () => {
  tracing = startTracing('trace-test', {}, { exporter });
  admin = kafka.admin();
  await admin.connect();
});
after(async () => {
  await admin.disconnect();
  await tracing.shutdown();
});

/** Every record of a topic with its headers. */
async function headersOf(topic: string) {
  const consumer: Consumer = kafka.consumer({ groupId: `t-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  // Keyed by partition and offset: a probe consumer that rejoins its group re-reads records it
  // had not committed yet, and a re-read must not count as another record.
  const byOffset = new Map<string, { key: string; value: string; headers: Record<string, string> }>();
  await consumer.run({
    eachMessage: async ({ partition, message }) =>
      void byOffset.set(`${partition}:${message.offset}`, { key: String(message.key), value: message.value!.toString(), headers: headersToStrings(message.headers) }),
  });
  return {
    /** Waits until a record with each of these keys has arrived; returns every record seen. */
    async until(keys: string[]) {
      const deadline = Date.now() + 20000;
      const missing = () => keys.filter((k) => ![...byOffset.values()].some((r) => r.key === k));
      while (missing().length > 0) {
        if (Date.now() > deadline) throw new Error(`no record ${missing().join(', ')} on ${topic} (saw ${byOffset.size})`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return [...byOffset.values()];
    },
    stop: () => consumer.disconnect(),
  };
}

const stage = (groupId: string, input: string, deadLetterTopic: string, handle: Handler) =>
  new Stage({ service: 'trace-test', kafka, groupId, topics: [input], deadLetterTopic, handle, log: silent, commitIntervalMs: 200 });

/**
 * The span a produced record names as its parent (its `traceparent`). Delivery is at least once:
 * a stage that rejoins its group before committing handles a record again, with a new span each
 * time, so the test follows the chain through the headers instead of expecting one span per key.
 */
const spanById = (spans: ReadableSpan[], spanId: string | undefined, name: string, key: string) => {
  const found = spans.find((s) => s.spanContext().spanId === spanId);
  assert.ok(found, `a span ${spanId}: ${spans.map((s) => s.name).join(', ')}`);
  assert.equal(found.name, name);
  assert.equal(found.attributes['messaging.kafka.message.key'], key);
  return found;
};
const parentOf = (spans: ReadableSpan[], traceparent: string | undefined, name: string, key: string) =>
  spanById(spans, traceparent?.split('-')[2], name, key);

test('one trace follows a record through two stages, with the parent/child chain in the headers', async () => {
  const topics = await freshTopics(admin, 2);
  const run = randomUUID().slice(0, 8);
  // Stage 1: requests → queue (and a throwing record → dead letter); stage 2: queue → deliveries, with an inner span.
  const first = stage(`a-${run}`, topics.requests, topics.deadLetter, (rec) => {
    if (rec.key!.toString() === 'boom') throw new Error('bad record');
    return [{ topic: topics.queue, key: rec.key!.toString(), value: rec.value! }];
  });
  const second = stage(`b-${run}`, topics.queue, topics.deadLetter, async (rec) => {
    await withSpan('inner step', { step: 1 }, () => new Promise((r) => setTimeout(r, 5)));
    return [{ topic: topics.deliveries, key: rec.key!.toString(), value: rec.value!, headers: { traceparent: 'stale', other: 'kept' } }];
  });
  await Promise.all([first.start(), second.start()]);
  const deliveries = await headersOf(topics.deliveries);
  const dead = await headersOf(topics.deadLetter);

  // A caller's trace (as Campaign would send it) and a record without any trace context.
  const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
  const callerSpan = '00f067aa0ba902b7';
  const p = kafka.producer();
  await p.connect();
  await p.send({
    topic: topics.requests,
    messages: [
      { key: 'traced', value: 'a', headers: { traceparent: `00-${callerTrace}-${callerSpan}-01`, tracestate: 'vendor=x' } },
      { key: 'untraced', value: 'b' },
      { key: 'boom', value: 'c', headers: { traceparent: `00-${callerTrace}-${callerSpan}-01` } },
    ],
  });
  const out = await deliveries.until(['traced', 'untraced']);
  const [deadRec] = await dead.until(['boom']);
  await Promise.all([first.stop(5000), second.stop(5000), p.disconnect(), deliveries.stop(), dead.stop()]);

  const spans = exporter.getFinishedSpans();
  const processing = (name: string, key: string) => spans.filter((s) => s.name === name && s.attributes['messaging.kafka.message.key'] === key);
  const tracedOut = out.filter((r) => r.value === 'a');
  assert.ok(tracedOut.length >= 1);
  // Every record produced for 'traced' (one, or more after a redelivery) is reached through its own chain.
  for (const rec of tracedOut) {
    const s2 = parentOf(spans, rec.headers.traceparent, `process ${topics.queue}`, 'traced');
    const s1 = spanById(spans, s2.parentSpanContext?.spanId, `process ${topics.requests}`, 'traced');
    assert.equal(rec.headers.traceparent, `00-${callerTrace}-${s2.spanContext().spanId}-01`, 'the produced record carries the span of the stage that produced it');
    assert.equal(rec.headers.other, 'kept', "the handler's own headers are kept");
    assert.equal(s2.kind, SpanKind.CONSUMER);
    assert.equal(s2.spanContext().traceId, callerTrace, 'stage 2 is in the same trace');
    assert.equal(s1.kind, SpanKind.CONSUMER);
    assert.equal(s1.spanContext().traceId, callerTrace, 'stage 1 continues the caller trace');
    assert.equal(s1.parentSpanContext?.spanId, callerSpan, "stage 1's span is a child of the caller's");
    assert.equal(s1.attributes['messaging.system'], 'kafka');
    assert.equal(s1.attributes['messaging.destination.name'], topics.requests);
    assert.equal(s1.attributes['messaging.consumer.group.name'], `a-${run}`);
    assert.equal(s1.spanContext().traceState?.get('vendor'), 'x', 'tracestate travels too');
    const inner = spans.filter((s) => s.name === 'inner step' && s.parentSpanContext?.spanId === s2.spanContext().spanId);
    assert.equal(inner.length, 1, "a span opened inside the handler is a child of the stage's span");
  }
  // However often stage 1 handled 'traced', each of its spans continues the caller's trace.
  for (const s1 of processing(`process ${topics.requests}`, 'traced')) assert.equal(s1.parentSpanContext?.spanId, callerSpan);

  for (const rec of out.filter((r) => r.value === 'b')) {
    const u2 = parentOf(spans, rec.headers.traceparent, `process ${topics.queue}`, 'untraced');
    const u1 = spanById(spans, u2.parentSpanContext?.spanId, `process ${topics.requests}`, 'untraced');
    assert.equal(u1.parentSpanContext, undefined, 'a record without trace context starts a new trace');
    assert.notEqual(u1.spanContext().traceId, callerTrace);
    assert.equal(u2.spanContext().traceId, u1.spanContext().traceId);
  }

  const b = parentOf(spans, deadRec!.headers.traceparent, `process ${topics.requests}`, 'boom');
  assert.equal(b.status.code, SpanStatusCode.ERROR);
  assert.match(b.status.message ?? '', /bad record/);
  assert.equal(b.spanContext().traceId, callerTrace, 'the dead letter is in the trace too');
});

test('queue depth, oldest in-flight record and consumer lag of a stage', async () => {
  const topics = await freshTopics(admin, 1);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const inHandler = new Promise<void>((r) => (entered = r));
  const s = new Stage({
    service: 'trace-test',
    kafka,
    groupId: `g-${randomUUID()}`,
    topics: [topics.requests],
    deadLetterTopic: topics.deadLetter,
    log: silent,
    maxInFlight: 1,
    handle: async () => {
      entered();
      await gate;
      return [];
    },
  });
  assert.equal(s.oldestInFlightSeconds(), 0);
  assert.equal(s.oldestInFlightProducedAt(), undefined, 'the watchdog sees nothing held');
  const p = kafka.producer();
  await p.connect();
  const sentFrom = Date.now();
  await p.send({ topic: topics.requests, messages: [0, 1, 2, 3, 4].map((n) => ({ value: String(n) })) });
  const sentTo = Date.now();
  await s.start();
  await inHandler;
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(s.inFlightCount, 1);
  assert.ok(s.oldestInFlightSeconds() >= 0.01, `oldest in-flight record is aging: ${s.oldestInFlightSeconds()}`);
  // The watchdog gauge (mta_oldest_message_age_seconds{stage}) ages the held message from when it
  // reached the stage's topic (its Kafka timestamp), not from when the stage fetched it.
  const producedAt = s.oldestInFlightProducedAt();
  assert.ok(producedAt !== undefined && producedAt >= sentFrom && producedAt <= sentTo, `held message produced at ${producedAt}, sent ${sentFrom}-${sentTo}`);
  assert.deepEqual([...s.consumerLag()], [{ topic: topics.requests, partition: 0, lag: 4 }], 'four records behind the one being handled');
  release();
  const deadline = Date.now() + 20000;
  while (s.inFlightCount > 0 || [...s.consumerLag()][0]!.lag > 0) {
    assert.ok(Date.now() < deadline, 'stage drains');
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(s.oldestInFlightSeconds(), 0);
  assert.equal(s.oldestInFlightProducedAt(), undefined);
  await s.stop(5000);
  await p.disconnect();
});
