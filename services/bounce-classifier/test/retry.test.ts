/**
 * The soft-bounce branch and the delay-topic release handler, with a controllable clock: the
 * records they produce, decoded and checked against the contracts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AttemptCodec,
  DEFAULT_TOPICS,
  MtaEventCodec,
  QueuedMessageCodec,
  RETRY_NOT_BEFORE_HEADER,
  RetryRecordCodec,
  type Attempt,
  type Delivery,
  type MtaEvent,
  type RetryRecord,
} from '@mta/contracts';
import type { InRecord, OutRecord } from '@mta/kafka';
import { parsePolicy } from '@mta/retry';
import { createClassifierHandler } from '../src/handler.ts';
import { shippedRules } from '../src/rules.ts';
import { createReleaseHandler, notBeforeOf } from '../src/retry/release.ts';
import { createRetryScheduler } from '../src/retry/schedule.ts';
import { loadPolicyFile } from '../src/retry/config.ts';
import { SHIPPED_POLICY_URL } from '../src/retry-policy.ts';
import { fileURLToPath } from 'node:url';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const T0 = Date.parse('2026-03-01T00:00:00.000Z');
let clock = T0;
const now = () => new Date(clock);

const topics = { ...DEFAULT_TOPICS };
const tierTopics = [topics.retry2m, topics.retry10m, topics.retry30m, topics.retry2h, topics.retry4h];
const tierDelaysMs = [2 * M, 10 * M, 30 * M, 2 * H, 4 * H];
const policy = parsePolicy('jitter = 0%\ncategory=greylisted | 1m, 5m...\ndefault | 5m, 10m, 30m*2, 1h*4, 4h...').policy!;

const scheduler = createRetryScheduler({ eventsTopic: topics.events, tierTopics, tierDelaysMs, policy: () => policy, now });
const classify = createClassifierHandler({ topics, rules: shippedRules, now, retry: scheduler });
const release = createReleaseHandler({ topics, tierTopics, tierDelaysMs, now });
const notBefore = notBeforeOf(tierTopics, tierDelaysMs);

function delivery(over: Partial<Delivery> = {}): Delivery {
  return {
    v: 1,
    messageId: 'm-1',
    deliveryId: 'd-1',
    from: 'News <news@brand.test>',
    mailFrom: 'b-bS0x@bounces.brand.test',
    to: 'grey@example.test',
    recipientDomain: 'example.test',
    content: { kind: 'structured', subject: 'Hi', text: 'Hello' },
    acceptedAt: new Date(T0).toISOString(),
    validUntil: new Date(T0 + 84 * H).toISOString(),
    attempt: 1,
    releasedAt: new Date(T0).toISOString(),
    limits: { maxConnections: 2, messagesPerConnection: 50 },
    sourceIp: '192.0.2.10',
    tls: 'required',
    ...over,
  };
}

function attempt(d: Delivery, over: Partial<Attempt> = {}): Attempt {
  const smtp = { code: 451, enhancedCode: '4.7.1', response: '451 4.7.1 <grey@example.test>: Recipient address rejected: Greylisted, try again later', command: 'RCPT TO' };
  return {
    v: 1,
    messageId: d.messageId,
    deliveryId: d.deliveryId,
    recipient: d.to,
    recipientDomain: d.recipientDomain,
    attempt: d.attempt,
    acceptedAt: d.acceptedAt,
    validUntil: d.validUntil,
    startedAt: new Date(clock).toISOString(),
    finishedAt: new Date(clock).toISOString(),
    outcome: 'failed',
    smtp,
    error: { code: 'EENVELOPE', message: 'rejected', responseCode: 451, response: smtp.response, command: 'RCPT TO' },
    delivery: d,
    ...over,
  };
}

const inRec = (o: OutRecord, offset = '0'): InRecord => ({
  topic: o.topic,
  partition: 0,
  offset,
  key: o.key === null ? null : Buffer.from(o.key),
  value: Buffer.from(o.value),
  headers: o.headers ?? {},
  timestamp: String(clock),
});
const eventOf = (o: OutRecord): MtaEvent => {
  const e = MtaEventCodec.decode(Buffer.from(o.value));
  assert.ok(e.ok, e.ok ? '' : e.error.message);
  return e.value;
};
const retryOf = (o: OutRecord): RetryRecord => {
  const r = RetryRecordCodec.decode(Buffer.from(o.value));
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return r.value;
};
const run = async (a: Attempt) => classify(inRec({ topic: topics.attempts, key: a.messageId, value: AttemptCodec.encode(a) }));

test('the shipped retry policy parses', () => {
  const p = loadPolicyFile(fileURLToPath(SHIPPED_POLICY_URL));
  assert.ok(p.rules.length >= 5);
  assert.equal(p.jitter, 0.1);
});

test('soft bounce with time left: soft_bounce (status unchanged, nextAttemptAt) and a retry record on the right tier', async () => {
  clock = T0;
  const d = delivery();
  const out = await run(attempt(d));
  assert.deepEqual(out.map((o) => o.topic), [topics.events, topics.retry2m]);
  const e = eventOf(out[0]!);
  assert.equal(e.event, 'soft_bounce');
  assert.equal(e.attempt, 1);
  assert.equal(e.failure?.category, 'greylisted');
  assert.equal(e.nextAttemptAt, new Date(T0 + 1 * M).toISOString());
  const r = retryOf(out[1]!);
  assert.equal(out[1]!.key, 'm-1');
  assert.equal(r.dueAt, new Date(T0 + 1 * M).toISOString());
  assert.equal(r.message.attempt, 2);
  assert.equal(r.message.lastFailure?.category, 'greylisted');
  assert.equal((r.message as Record<string, unknown>).sourceIp, undefined, 'the throttle chooses the source again');
  assert.equal((r.message as Record<string, unknown>).tls, undefined, 'the throttle sets the TLS policy again');
  assert.ok(QueuedMessageCodec.check.Check(r.message));
  assert.equal(out[1]!.headers?.[RETRY_NOT_BEFORE_HEADER], String(T0 + 1 * M));

  // Second greylisting: 5 min → the 2m tier (then again, then the rest); a 10 min wait → the 10m tier.
  const out2 = await run(attempt(delivery({ attempt: 2 })));
  assert.equal(out2[1]!.topic, topics.retry2m);
  assert.equal(out2[1]!.headers?.[RETRY_NOT_BEFORE_HEADER], String(T0 + 2 * M));
  const out3 = await run(attempt(delivery({ attempt: 2, to: 'x@example.test', messageId: 'm-default' }), { smtp: { code: 421, response: '421 try later', command: 'RCPT TO' } }));
  assert.equal(eventOf(out3[0]!).nextAttemptAt, new Date(T0 + 10 * M).toISOString());
  assert.equal(out3[1]!.topic, topics.retry10m);
});

test('the release handler: re-tiers a long wait, queues when due, drops a replayed duplicate', async () => {
  clock = T0;
  const d = delivery({ to: 'someone@example.test', messageId: 'm-long' });
  const quota = attempt(d, {
    attempt: 7,
    smtp: { code: 452, enhancedCode: '4.2.2', response: '452 4.2.2 Mailbox full', command: 'RCPT TO' },
    error: { code: 'EENVELOPE', message: 'x', responseCode: 452, response: '452 4.2.2 Mailbox full', command: 'RCPT TO' },
  });
  const out = await run(quota); // default policy, 7th failure: 1h → two 30m hops
  assert.equal(out[1]!.topic, topics.retry30m);
  assert.equal(eventOf(out[0]!).nextAttemptAt, new Date(T0 + H).toISOString());
  let rec = inRec(out[1]!);
  assert.equal(notBefore(rec), T0 + 30 * M);

  clock = T0 + 30 * M;
  const hop = await release(rec);
  assert.deepEqual(hop.map((o) => o.topic), [topics.retry30m]);
  rec = inRec(hop[0]!);
  assert.equal(notBefore(rec), T0 + H);

  clock = T0 + H;
  const queued = await release(rec);
  assert.deepEqual(queued.map((o) => [o.topic, o.key]), [[topics.queue, 'example.test']]);
  const m = QueuedMessageCodec.decode(Buffer.from(queued[0]!.value));
  assert.ok(m.ok);
  assert.equal(m.value.attempt, 8);
  assert.equal(m.value.lastFailure?.reason, 'Mailbox full');

  assert.deepEqual(await release(rec), [], 'a replay of a released retry produces nothing');
});

test('always soft: the last wait is cut to the validity end, then the message expires with class 24 and the last reason', async () => {
  clock = T0;
  const validUntil = new Date(T0 + 3 * M).toISOString();
  // 2nd greylisting at T0+2m: next step 5m would pass the end (T0+3m).
  clock = T0 + 2 * M;
  const out = await run(attempt(delivery({ messageId: 'm-exp', attempt: 2, validUntil })));
  const e = eventOf(out[0]!);
  assert.equal(e.event, 'soft_bounce');
  assert.equal(e.nextAttemptAt, undefined, 'no further attempt');
  const r = retryOf(out[1]!);
  assert.equal(r.dueAt, validUntil);

  clock = T0 + 3 * M - 1;
  assert.equal(notBefore(inRec(out[1]!)) > clock, true, 'held until the validity end, not earlier');
  clock = T0 + 3 * M;
  const exp = await release(inRec(out[1]!));
  assert.equal(exp.length, 1);
  const x = eventOf(exp[0]!);
  assert.equal(x.event, 'expired');
  assert.equal(x.attempt, 2);
  assert.equal(x.failure?.bounceClass, 24);
  assert.equal(x.failure?.reason, e.failure?.reason, 'the reason of the last soft bounce');
  assert.equal(x.failure?.reasonCode, e.failure?.reasonCode);
  assert.match(x.failure!.message, /after 2 attempts; last failure: 451 4\.7\.1/);
});

test('a soft bounce after the validity end expires at once; the sender refusing an expired delivery expires it too', async () => {
  clock = T0 + 10 * M;
  const validUntil = new Date(T0 + 5 * M).toISOString();
  const late = await run(attempt(delivery({ messageId: 'm-late', attempt: 3, validUntil })));
  assert.deepEqual(late.map((o) => o.topic), [topics.events]);
  assert.equal(eventOf(late[0]!).event, 'expired');
  assert.equal(eventOf(late[0]!).attempt, 3);

  const last = eventOf(late[0]!).failure!;
  const d = delivery({ messageId: 'm-sender', attempt: 4, validUntil, lastFailure: { ...last, reasonCode: 5, reason: 'Mailbox full', bounceClass: 22, category: 'quota-issues', message: '452 4.2.2 Mailbox full' } });
  const refused = await run(attempt(d, { smtp: undefined, error: { code: 'EEXPIRED', message: 'not sent' } }));
  const x = eventOf(refused[0]!);
  assert.equal(x.event, 'expired');
  assert.equal(x.attempt, 3, 'attempts actually made');
  assert.equal(x.failure?.reason, 'Mailbox full');
  assert.equal(x.failure?.bounceClass, 24);
});

test('a release time is never later than the tier delay after the record was appended', () => {
  const rec = (header: string | undefined, topic: string = topics.retry2m): InRecord => ({
    topic, partition: 0, offset: '0', key: null, value: null, headers: header === undefined ? {} : { [RETRY_NOT_BEFORE_HEADER]: header }, timestamp: String(T0),
  });
  assert.equal(notBefore(rec(String(T0 + M))), T0 + M);
  assert.equal(notBefore(rec(String(T0 + 365 * 24 * H))), T0 + 2 * M, 'a corrupt header cannot block the partition');
  assert.equal(notBefore(rec(String(T0 + 3 * H), topics.retry4h)), T0 + 3 * H);
  assert.equal(notBefore(rec(undefined)), 0);
  assert.equal(notBefore(rec('soon')), 0);
});

test('hard bounces and deliveries schedule nothing; a bad retry record is dead-lettered', async () => {
  clock = T0;
  const d = delivery({ to: 'unknown@example.test', messageId: 'm-hard' });
  const hard = await run(
    attempt(d, {
      smtp: { code: 550, enhancedCode: '5.1.1', response: '550 5.1.1 <unknown@example.test>: Recipient address rejected: User unknown in local recipient table', command: 'RCPT TO' },
      error: { code: 'EENVELOPE', message: 'x', responseCode: 550, command: 'RCPT TO' },
    }),
  );
  assert.deepEqual(hard.map((o) => o.topic), [topics.events]);
  assert.equal(eventOf(hard[0]!).event, 'hard_bounce');
  const ok = await run({ ...attempt(delivery({ messageId: 'm-ok' })), outcome: 'delivered', error: undefined, delivery: undefined });
  assert.deepEqual(ok.map((o) => o.topic), [topics.events]);
  const bad = await release(inRec({ topic: topics.retry2m, key: 'x', value: '{"v":1}' }));
  assert.deepEqual(bad.map((o) => o.topic), [topics.deadLetter]);
});
