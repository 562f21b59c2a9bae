/**
 * Retries end to end (issue 5): the five services as processes on the real Kafka, a real SMTP
 * server whose answer changes per attempt, short periods (MTA_RETRY_TIERS, a policy file).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Producer } from 'kafkajs';
import type { Attempt, MtaEvent, QueuedMessage, StatusRecord, Topics } from '@mta/contracts';
import { TOPIC_ENV } from '@mta/config';
import { collect, freshTopics, SERVICES, startScriptedSink, startService, testKafka, type Collected, type ScriptedSink, type ServiceProcess } from '@mta/testkit';

const kafka = testKafka('retries-e2e');
const run = randomUUID().slice(0, 8);
const STEP_MS = 1000; // default step of the test policy
const SLOW_STEP_MS = 8000; // slow.test's step: long enough to kill the classifier while it holds retries
let admin: Admin;
let producer: Producer;
let topics: Topics;
let sink: ScriptedSink;
let env: Record<string, string>;
const services = new Map<string, ServiceProcess>();
let status: Collected<StatusRecord>;
let events: Collected<MtaEvent>;
let queue: Collected<QueuedMessage>;
let attempts: Collected<Attempt>;

const GREYLISTED = { code: 451, message: '4.7.1 Recipient address rejected: Greylisted, try again later' };

before(async () => {
  admin = kafka.admin();
  await admin.connect();
  topics = await freshTopics(admin, 3);
  // flakyN-*: greylisted for the first N attempts, then accepted; always-*: greylisted forever.
  sink = await startScriptedSink((address, nth) => {
    const local = address.split('@')[0]!;
    const flaky = /^flaky(\d+)-/.exec(local);
    if (flaky) return nth <= Number(flaky[1]) ? GREYLISTED : undefined;
    return local.startsWith('always-') ? GREYLISTED : undefined;
  });
  const dir = mkdtempSync(join(tmpdir(), 'mta-retry-'));
  const policy = join(dir, 'policy.txt');
  writeFileSync(policy, `jitter = 10%\ndomain=slow.test | ${SLOW_STEP_MS}ms...\ndefault | ${STEP_MS}ms...\n`);
  env = {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS!,
    MTA_ROUTES: `*=127.0.0.1:${sink.port}`,
    MTA_THROTTLE_SITE: 'domain', // every domain is routed to the sink: lanes by domain, no MX lookups
    MTA_RETRY_POLICY: policy,
    MTA_RETRY_TIERS: '250ms,500ms,1s,2s,4s',
  };
  for (const [id, name] of Object.entries(topics)) env[TOPIC_ENV[id as keyof Topics]] = name;
  const started = await Promise.all(SERVICES.map((s) => startService(s, { ...env, MTA_GROUP_ID: `retries-${s}-${run}` })));
  for (const s of started) services.set(s.name, s);
  producer = kafka.producer();
  await producer.connect();
  status = await collect<StatusRecord>(kafka, topics.status);
  events = await collect<MtaEvent>(kafka, topics.events);
  queue = await collect<QueuedMessage>(kafka, topics.queue);
  attempts = await collect<Attempt>(kafka, topics.attempts);
});

after(async () => {
  const codes = await Promise.all([...services.values()].map((s) => s.stop()));
  await Promise.all([status?.stop(), events?.stop(), queue?.stop(), attempts?.stop()]);
  await producer?.disconnect();
  await admin?.disconnect();
  await sink?.close();
  assert.deepEqual(codes, codes.map(() => 0), 'every service exits 0 on SIGTERM');
});

const send = (messages: { id: string; to: string; validUntil?: string }[]) =>
  producer.send({
    topic: topics.requests,
    messages: messages.map((m) => ({
      key: m.id,
      value: JSON.stringify({
        messageId: m.id,
        deliveryId: `d-${run}`,
        from: 'Brand <news@brand.example>',
        to: m.to,
        subject: `Retry ${m.id}`,
        text: 'Hello',
        ...(m.validUntil ? { validUntil: m.validUntil } : {}),
      }),
    })),
  });
const of = <T extends { messageId: string }>(rs: T[], id: string) => rs.filter((r) => r.messageId === id);
const final = (rs: StatusRecord[], id: string) => of(rs, id).some((r) => r.status !== 'taken_into_account');

test('a domain that soft-bounces twice then accepts: two soft bounces, then sent with attempt 3', async () => {
  const id = `flaky-${run}`;
  await send([{ id, to: `flaky2-${run}@retry.test` }]);
  const records = of(await status.until((rs) => final(rs, id), 90000), id);
  assert.deepEqual(
    records.map((r) => `${r.status}/${r.event}/${r.attempt}`),
    ['taken_into_account/accepted/0', 'taken_into_account/soft_bounce/1', 'taken_into_account/soft_bounce/2', 'sent/delivered/3'],
  );
  const soft = records.filter((r) => r.event === 'soft_bounce');
  for (const s of soft) assert.equal(s.failureType, 'soft');
  for (const s of soft) assert.equal(s.smtp?.code, 451, 'the updated reason is the reply of that attempt');
  const softEvents = of(events.records.map((r) => r.value), id).filter((e) => e.event === 'soft_bounce');
  for (const e of softEvents) assert.ok(e.nextAttemptAt && Date.parse(e.nextAttemptAt) > Date.parse(e.timestamp), 'each soft bounce says when the next attempt is');
  assert.equal(sink.rcptCount(`flaky2-${run}@retry.test`), 3, 'three attempts reached the SMTP server');
  assert.equal(sink.received.filter((m) => m.to.includes(`flaky2-${run}@retry.test`)).length, 1, 'delivered once');
});

test('a domain that always soft-bounces: failed/expired at the validity end, never earlier, never later than one step', async () => {
  const id = `always-${run}`;
  const validUntil = new Date(Date.now() + 6 * STEP_MS).toISOString();
  await send([{ id, to: `always-${run}@retry.test`, validUntil }]);
  const records = of(await status.until((rs) => final(rs, id), 90000), id);
  const end = Date.parse(validUntil);
  const last = records.at(-1)!;
  assert.equal(last.status, 'failed');
  assert.equal(last.event, 'expired');
  assert.equal(last.bounceClass, 24);
  const softs = records.filter((r) => r.event === 'soft_bounce');
  assert.ok(softs.length >= 2, `retried until the end (${softs.length} soft bounces)`);
  assert.deepEqual(softs.map((s) => s.attempt), softs.map((_, i) => i + 1), 'attempt counts attempts');
  // `attempt` counts the attempts made. Each failure before the end published a soft bounce; a
  // last attempt that failed as the validity ran out expires at once (no soft bounce for it), so
  // the expiry counts one more attempt than there were soft bounces. The attempts made are the
  // sender's attempt records (one per delivery that reached the server, each numbered; Kafka is at
  // least once, so a delivery handled again after a rejoin is one more record with the same number).
  const addr = `always-${run}@retry.test`;
  const triedOf = (as: Attempt[]) => of(as, id).filter((a) => a.error?.code !== 'EEXPIRED');
  const tried = triedOf(await attempts.until((as) => triedOf(as).length >= sink.rcptCount(addr), 30000));
  const made = new Set(tried.map((a) => a.attempt)).size;
  assert.deepEqual([...new Set(tried.map((a) => a.attempt))].sort((a, b) => a - b), Array.from({ length: made }, (_, i) => i + 1), 'attempts 1..n');
  assert.equal(sink.rcptCount(addr), tried.length, 'every attempt record is an attempt the server saw');
  assert.equal(last.attempt, made, `attempts made (${made}; the server saw ${sink.rcptCount(addr)})`);
  assert.ok(made === softs.length || made === softs.length + 1, `${made} attempts, ${softs.length} soft bounces`);
  assert.equal(last.failureReason, softs.at(-1)!.failureReason, 'the last soft-bounce reason');
  assert.match(last.error ?? '', /last failure: 451 4\.7\.1/);
  // Never earlier: the expiry is not before the validity end ...
  assert.ok(Date.parse(last.timestamp) >= end, `expired at ${last.timestamp}, validity ends ${validUntil}`);
  // ... no attempt was skipped: every soft bounce but the last scheduled a next attempt before the
  // end; the last one either scheduled none (its next step would have passed the end) or its next
  // attempt came due only as the validity ran out (that attempt then failed at the end, or a loaded
  // machine released it after the end and it expired instead of being sent) ...
  const softEvents = of(events.records.map((r) => r.value), id).filter((e) => e.event === 'soft_bounce');
  for (const e of softEvents.slice(0, -1)) assert.ok(e.nextAttemptAt && Date.parse(e.nextAttemptAt) < end);
  const lastNext = softEvents.at(-1)!.nextAttemptAt;
  if (lastNext !== undefined) {
    assert.ok(Date.parse(lastNext) < end, `the last retry was scheduled before the end (${lastNext})`);
    assert.ok(Date.parse(last.timestamp) >= Date.parse(lastNext), `expired at ${last.timestamp}, not before the scheduled retry ${lastNext}`);
  }
  // ... and never later than one retry step after it (a generous bound for a shared machine).
  assert.ok(Date.parse(last.timestamp) - end < STEP_MS + 10000, `expired ${Date.parse(last.timestamp) - end} ms after the validity end`);
  assert.equal(sink.received.filter((m) => m.to.includes(`always-${run}@retry.test`)).length, 0);
});

/** Waits until `groupId` has committed every record of `topic` (committed offset = end offset). */
async function committedThrough(groupId: string, topic: string): Promise<void> {
  const deadline = Date.now() + 15000;
  for (;;) {
    const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
    const at = (p: number) => Number(committed[0]?.partitions.find((c) => c.partition === p)?.offset ?? -1);
    const behind = ends.filter((e) => Number(e.high) > 0 && at(e.partition) < Number(e.high));
    if (behind.length === 0) return;
    assert.ok(Date.now() < deadline, `${groupId} has not committed ${topic}: ${JSON.stringify(behind.map((e) => [e.partition, e.high, at(e.partition)]))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let lastMetrics = '';
async function retryStageAge(port: number): Promise<number> {
  lastMetrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = /^mta_oldest_message_age_seconds\{[^}]*stage="bounce-classifier\/retry"[^}]*\} ([\d.e+-]+)/m.exec(lastMetrics);
  return m ? Number(m[1]) : NaN;
}

test('kill -9 of the bounce-classifier while it holds delayed retries, then a restart: nothing lost, nothing duplicated', async () => {
  const ids = Array.from({ length: 6 }, (_, i) => `kill-${i}-${run}`);
  const to = (id: string) => `flaky1-${id}@slow.test`;
  await send(ids.map((id) => ({ id, to: to(id) })));
  await status.until((rs) => ids.every((id) => of(rs, id).some((r) => r.event === 'soft_bounce')), 90000);
  // Kafka is at least once: an attempt record the classifier handled but had not yet committed is
  // handled again after a kill -9 (a second retry record for that attempt). This test is about the
  // messages waiting on the delay topics, so it kills the classifier only once its main stage has
  // committed every attempt record: what it then holds is only the delayed retries.
  await committedThrough(`retries-bounce-classifier-${run}`, topics.attempts);
  // The retries now wait on the delay topics (8 s): the watchdog gauge shows the held head.
  const classifier = services.get('bounce-classifier')!;
  const deadline = Date.now() + 3000;
  let age = await retryStageAge(classifier.port);
  while (!(age > 0) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    age = await retryStageAge(classifier.port);
  }
  assert.ok(age > 0, `the retry stage reports a held message (age ${age}): ${lastMetrics.split('\n').filter((l) => l.includes('oldest')).join('\n')}`);
  assert.ok(ids.every((id) => !final(status.records.map((r) => r.value), id)), 'killed before any retry was due');
  await classifier.stop('SIGKILL');
  services.set('bounce-classifier', await startService('bounce-classifier', { ...env, MTA_GROUP_ID: `retries-bounce-classifier-${run}` }));

  const records = await status.until((rs) => ids.every((id) => final(rs, id)), 90000);
  for (const id of ids) {
    assert.deepEqual(
      of(records, id).map((r) => `${r.status}/${r.event}/${r.attempt}`),
      ['taken_into_account/accepted/0', 'taken_into_account/soft_bounce/1', 'sent/delivered/2'],
      id,
    );
    assert.equal(sink.received.filter((m) => m.to.includes(to(id))).length, 1, `${id}: delivered exactly once`);
    assert.equal(sink.rcptCount(to(id)), 2, `${id}: exactly two attempts`);
    const requeued = of(queue.records.map((r) => r.value), id).filter((m) => m.attempt === 2);
    assert.equal(requeued.length, 1, `${id}: the retry went back to the queue exactly once`);
  }
});
