/**
 * Expiry wherever a message can sit (issue 5 §3), checked across the stages' handlers: the
 * throttle's buffer, the sender, the delay topics (release handler) and the classifier all turn a
 * message whose validity ended into `event: expired` with bounce class 24, and never deliver it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AttemptCodec,
  DEFAULT_TOPICS,
  DeliveryCodec,
  MtaEventCodec,
  QueuedMessageCodec,
  RetryRecordCodec,
  failure,
  type MtaEvent,
  type QueuedMessage,
} from '@mta/contracts';
import type { InRecord, OutRecord } from '@mta/kafka';
import { createThrottleHandler, Limiter, Shaper, siteOf } from '@mta/throttle';
import { parseShapingRules } from '@mta/shaping';
import { createSenderHandler } from '@mta/sender';
import { shippedRules } from '@mta/bounce-classifier';
import { createClassifierHandler } from '../services/bounce-classifier/src/handler.ts';
import { createReleaseHandler } from '../services/bounce-classifier/src/retry/release.ts';
import { createRetryScheduler } from '../services/bounce-classifier/src/retry/schedule.ts';
import { parsePolicy } from '@mta/retry';

const topics = { ...DEFAULT_TOPICS };
const tierTopics = [topics.retry2m, topics.retry10m, topics.retry30m, topics.retry2h, topics.retry4h];
const tierDelaysMs = [120_000, 600_000, 1_800_000, 7_200_000, 14_400_000];
const lastFailure = failure('soft', 5, 22, 'quota-issues', '452 4.2.2 Mailbox full');

function message(validUntil: string, over: Partial<QueuedMessage> = {}): QueuedMessage {
  return {
    v: 1,
    messageId: `m-${Math.random().toString(36).slice(2)}`,
    deliveryId: 'd-1',
    from: 'news@brand.test',
    mailFrom: 'news@brand.test',
    to: 'full@example.test',
    recipientDomain: 'example.test',
    content: { kind: 'structured', subject: 'Hi', text: 'Hello' },
    acceptedAt: new Date(Date.now() - 3600_000).toISOString(),
    validUntil,
    attempt: 3,
    lastFailure,
    ...over,
  };
}
const rec = (topic: string, value: Buffer | string): InRecord => ({ topic, partition: 0, offset: '0', key: null, value: Buffer.from(value), headers: {}, timestamp: String(Date.now()) });
const events = (out: OutRecord[]): MtaEvent[] =>
  out.filter((o) => o.topic === topics.events).map((o) => {
    const d = MtaEventCodec.decode(Buffer.from(o.value));
    assert.ok(d.ok, d.ok ? '' : d.error.message);
    return d.value;
  });

test('throttle buffer: a message whose validity ends while it waits for a token leaves as expired', async () => {
  const parsed = parseShapingRules('defaults:\n  messagesPerSecond: 1\n  burst: 1\n  maxConnections: 1\n  messagesPerConnection: 10\n');
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.errors.join('; '));
  const rules = parsed.rules;
  const site = siteOf(['mx.example.test']);
  const handle = createThrottleHandler({ topics, limiter: new Limiter(), shaper: new Shaper({ rules: () => rules, owner: 'test' }), sites: { resolve: async () => site } });
  const first = await handle(rec(topics.queue, QueuedMessageCodec.encode(message(new Date(Date.now() + 60_000).toISOString()))));
  assert.deepEqual(first.map((o) => o.topic), [topics.deliveries], 'the first takes the only token');
  const m = message(new Date(Date.now() + 300).toISOString()); // ends before the next token (1 s)
  const out = await handle(rec(topics.queue, QueuedMessageCodec.encode(m)));
  assert.deepEqual(out.map((o) => o.topic), [topics.events]);
  const [e] = events(out);
  assert.equal(e!.event, 'expired');
  assert.equal(e!.failure?.bounceClass, 24);
  assert.equal(e!.failure?.reason, 'Mailbox full', 'the last soft-bounce reason');
  assert.match(e!.failure?.message ?? '', /last failure: 452 4\.2\.2 Mailbox full/);
  assert.equal(e!.attempt, 2, 'attempts made');
});

test('throttle buffer: a message whose validity ends in a slow lane\'s token queue leaves then, not at its turn', async () => {
  // One token per 1000 s: without expiry in the queue, the second message would sit there for
  // 1000 s past its validity end (and then take a token it no longer needs).
  const parsed = parseShapingRules('defaults:\n  messagesPerSecond: 0.001\n  burst: 1\n  maxConnections: 1\n  messagesPerConnection: 10\n');
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.errors.join('; '));
  const rules = parsed.rules;
  const limiter = new Limiter();
  const handle = createThrottleHandler({ topics, limiter, shaper: new Shaper({ rules: () => rules, owner: 'test' }), sites: { resolve: async () => siteOf(['mx.slow.test']) } });
  const first = await handle(rec(topics.queue, QueuedMessageCodec.encode(message(new Date(Date.now() + 60_000).toISOString()))));
  assert.deepEqual(first.map((o) => o.topic), [topics.deliveries], 'the first takes the only token');
  const m = message(new Date(Date.now() + 300).toISOString());
  let guard: NodeJS.Timeout | undefined;
  const out = await Promise.race([
    handle(rec(topics.queue, QueuedMessageCodec.encode(m))),
    new Promise<never>((_, reject) => (guard = setTimeout(() => reject(new Error('still waiting for a token 20 s after its validity ended')), 20_000))),
  ]).finally(() => clearTimeout(guard));
  assert.deepEqual(out.map((o) => o.topic), [topics.events]);
  const [e] = events(out);
  assert.equal(e!.event, 'expired');
  assert.equal(e!.failure?.bounceClass, 24);
  assert.equal(e!.failure?.reason, 'Mailbox full', 'the last soft-bounce reason');
  assert.ok(Date.parse(e!.timestamp) >= Date.parse(m.validUntil), 'never before the validity end');
  assert.equal(limiter.waiting, 0, 'it left the token queue');
});

test('sender: an expired delivery is not sent; the classifier reports expired with the last reason', async () => {
  const m = message(new Date(Date.now() - 1).toISOString());
  let sent = 0;
  const sender = createSenderHandler({ deliver: async () => (sent++, assert.fail('must not be sent')), topics });
  const out = await sender(rec(topics.deliveries, DeliveryCodec.encode({ ...m, releasedAt: new Date().toISOString(), limits: { maxConnections: 1, messagesPerConnection: 1 } })));
  assert.equal(sent, 0);
  const policy = parsePolicy('default | 5m...').policy!;
  const classify = createClassifierHandler({
    topics,
    rules: shippedRules,
    retry: createRetryScheduler({ eventsTopic: topics.events, tierTopics, tierDelaysMs, policy: () => policy }),
  });
  const attempt = AttemptCodec.decode(Buffer.from(out[0]!.value));
  assert.ok(attempt.ok);
  const [e] = events(await classify(rec(topics.attempts, AttemptCodec.encode(attempt.value))));
  assert.equal(e!.event, 'expired');
  assert.equal(e!.failure?.bounceClass, 24);
  assert.equal(e!.failure?.reason, 'Mailbox full');
  assert.equal(e!.attempt, 2);
});

test('delay topics: a retry whose validity ended while it waited leaves as expired with the last reason', async () => {
  const m = message(new Date(Date.now() - 1).toISOString());
  const release = createReleaseHandler({ topics, tierTopics, tierDelaysMs });
  const out = await release(rec(topics.retry2m, RetryRecordCodec.encode({ v: 1, message: m, dueAt: m.validUntil, scheduledAt: m.acceptedAt })));
  assert.deepEqual(out.map((o) => o.topic), [topics.events], 'not queued');
  const [e] = events(out);
  assert.equal(e!.event, 'expired');
  assert.equal(e!.failure?.bounceClass, 24);
  assert.equal(e!.failure?.reason, 'Mailbox full');
  assert.match(e!.failure!.message, /after 2 attempts; last failure: 452 4\.2\.2 Mailbox full/);
});
