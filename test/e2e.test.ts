/**
 * End to end: the five services as separate processes on the real local Kafka, a real SMTP
 * server (smtp-server) as the receiving MX, requests produced as Campaign would, statuses read
 * from the status topic.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Admin, Producer } from 'kafkajs';
import type { DeadLetter, MtaEvent, StatusRecord, Topics } from '@mta/contracts';
import { collect, freshTopics, SERVICES, startService, startSink, testKafka, type Collected, type ServiceProcess, type Sink } from '@mta/testkit';
import { TOPIC_ENV } from '@mta/config';

const kafka = testKafka('e2e');
let admin: Admin;
let producer: Producer;
let topics: Topics;
let sink: Sink;
let services: ServiceProcess[] = [];
let status: Collected<StatusRecord>;
let dead: Collected<DeadLetter>;
let events: Collected<MtaEvent>;
const run = randomUUID().slice(0, 8);

before(async () => {
  admin = kafka.admin();
  await admin.connect();
  topics = await freshTopics(admin, 3);
  sink = await startSink();
  const env: Record<string, string> = {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS!,
    MTA_ROUTES: `*=127.0.0.1:${sink.port}`,
    MTA_THROTTLE_SITE: 'domain', // every domain is routed to the sink: lanes by domain, no MX lookups
    MTA_MAX_MESSAGE_BYTES: '100000',
  };
  for (const [id, name] of Object.entries(topics)) env[TOPIC_ENV[id as keyof Topics]] = name;
  services = await Promise.all(SERVICES.map((s) => startService(s, { ...env, MTA_GROUP_ID: `e2e-${s}-${run}` })));
  producer = kafka.producer();
  await producer.connect();
  status = await collect<StatusRecord>(kafka, topics.status);
  dead = await collect<DeadLetter>(kafka, topics.deadLetter);
  events = await collect<MtaEvent>(kafka, topics.events);
});

after(async () => {
  const codes = await Promise.all(services.map((s) => s.stop()));
  await status?.stop();
  await dead?.stop();
  await events?.stop();
  await producer?.disconnect();
  await admin?.disconnect();
  await sink?.close();
  assert.deepEqual(codes, services.map(() => 0), 'every service exits 0 on SIGTERM');
});

const request = (messageId: string, to: string, extra: Record<string, unknown> = {}) => ({
  messageId,
  deliveryId: `d-${run}`,
  from: 'Brand <news@brand.example>',
  to,
  subject: `Hello ${messageId}`,
  text: 'Hello from the e2e test',
  ...extra,
});

const statusesOf = (records: StatusRecord[], id: string) => records.filter((r) => r.messageId === id).map((r) => `${r.status}/${r.event}`);

test('delivered, hard bounce and soft bounce reach Campaign with the right statuses', async () => {
  const ok = `ok-${run}`;
  const hard = `hard-${run}`;
  const soft = `soft-${run}`;
  await producer.send({
    topic: topics.requests,
    messages: [
      { key: ok, value: JSON.stringify(request(ok, 'alice@example.test', { headers: { 'X-Campaign': 'spring' } })) },
      { key: hard, value: JSON.stringify(request(hard, 'unknown-user@example.test')) },
      { key: soft, value: JSON.stringify(request(soft, 'greylisted@example.test')) },
    ],
  });
  const records = await status.until((rs) => statusesOf(rs, ok).includes('sent/delivered') && statusesOf(rs, hard).includes('failed/hard_bounce') && statusesOf(rs, soft).length >= 2, 60000);

  assert.deepEqual(statusesOf(records, ok), ['taken_into_account/accepted', 'sent/delivered']);
  assert.deepEqual(statusesOf(records, hard), ['taken_into_account/accepted', 'failed/hard_bounce']);
  assert.deepEqual(statusesOf(records, soft), ['taken_into_account/accepted', 'taken_into_account/soft_bounce']);

  const sent = records.find((r) => r.messageId === ok && r.status === 'sent')!;
  assert.equal(sent.recipient, 'alice@example.test');
  assert.equal(sent.deliveryId, `d-${run}`);
  assert.equal(sent.smtp?.code, 250);
  assert.equal(sent.attempt, 1);

  const h = records.find((r) => r.messageId === hard && r.status === 'failed')!;
  assert.equal(h.failureType, 'hard');
  assert.equal(h.failureReason, 'User unknown');
  assert.equal(h.failureReasonCode, 1);
  assert.equal(h.bounceClass, 10);
  assert.equal(h.smtp?.code, 550);
  assert.equal(h.smtp?.enhancedCode, '5.1.1');

  const s = records.find((r) => r.messageId === soft && r.event === 'soft_bounce')!;
  assert.equal(s.status, 'taken_into_account');
  assert.equal(s.failureType, 'soft');
  assert.equal(s.smtp?.code, 451);

  // What the real SMTP server received: exactly one message, to alice, with our header.
  const mails = sink.received.filter((m) => m.raw.toString().includes(`Hello ${ok}`));
  assert.equal(mails.length, 1);
  assert.deepEqual(mails[0]!.to, ['alice@example.test']);
  assert.equal(mails[0]!.from, 'news@brand.example');
  assert.match(mails[0]!.raw.toString(), /^X-Campaign: spring\r?$/m);
  assert.match(mails[0]!.raw.toString(), /^Subject: Hello ok-/m);

  // Attempts by outcome and bounce class on the classifier's /metrics: one count per event it
  // produced (a redelivered attempt is qualified, and counted, again: compare with the topic).
  const classifier = services.find((x) => x.name === 'bounce-classifier')!;
  const sum = (metrics: string, event: string, bounceClass: string) =>
    [...metrics.matchAll(new RegExp(`^mta_attempt_outcomes_total\\{([^}]*)\\} (\\d+)$`, 'gm'))]
      .filter((m) => m[1]!.includes(`event="${event}"`) && m[1]!.includes(`bounce_class="${bounceClass}"`))
      .reduce((n, m) => n + Number(m[2]), 0);
  const onTopic = (event: string, bounceClass?: number) => events.records.filter((r) => r.value.event === event && r.value.failure?.bounceClass === bounceClass).length;
  const rows: [string, string, number | undefined][] = [
    ['delivered', '', undefined],
    ['hard_bounce', '10', 10],
  ];
  let metrics = '';
  for (let i = 0; i < 100; i++) {
    metrics = await (await fetch(`http://127.0.0.1:${classifier.port}/metrics`)).text();
    if (rows.every(([e, c, n]) => onTopic(e, n) >= 1 && sum(metrics, e, c) === onTopic(e, n))) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const [e, c, n] of rows) {
    assert.ok(onTopic(e, n) >= 1, `${e} events on the topic`);
    assert.equal(sum(metrics, e, c), onTopic(e, n), `mta_attempt_outcomes_total{event="${e}",bounce_class="${c}"}\n${metrics}`);
  }
  assert.ok(sum(metrics, 'soft_bounce', String(s.bounceClass)) >= 1, `soft bounces counted by class (${s.bounceClass})\n${metrics}`);
});

test('bad input goes to the dead-letter topic with a specific error, and Campaign hears of it', async () => {
  const bad = (name: string) => `${name}-${run}`;
  const rows: { id: string | null; value: string; code: string; status: boolean }[] = [
    { id: null, value: '{"messageId": "broken-json", ', code: 'malformed_json', status: false },
    { id: bad('missing'), value: JSON.stringify({ messageId: bad('missing'), from: 'a@b.example', to: 'c@d.example', subject: 's', text: 't' }), code: 'missing_field', status: true },
    { id: bad('inject'), value: JSON.stringify(request(bad('inject'), 'bob@example.test', { headers: { 'X-Evil': 'x\r\nBcc: victim@else.example' } })), code: 'header_injection', status: true },
    { id: bad('inject-to'), value: JSON.stringify(request(bad('inject-to'), 'bob@example.test\r\nRCPT TO:<victim@else.example>')), code: 'header_injection', status: true },
    { id: bad('big'), value: JSON.stringify(request(bad('big'), 'bob@example.test', { text: 'x'.repeat(200_000) })), code: 'oversized', status: true },
    { id: bad('shape'), value: JSON.stringify({ messageId: bad('shape'), deliveryId: 'd', from: 'a@b.example', to: 'c@d.example', body: 'what is this' }), code: 'unknown_content_shape', status: true },
  ];
  // A good message behind the bad ones proves consumption continues.
  const after = bad('after');
  await producer.send({
    topic: topics.requests,
    messages: [...rows.map((r) => ({ key: r.id, value: r.value })), { key: after, value: JSON.stringify(request(after, 'carol@example.test')) }],
  });
  const match = (r: (typeof rows)[number]) => (d: DeadLetter) => d.error.code === r.code && (r.id === null ? d.source.key === null : d.messageId === r.id);
  const deadRecords = await dead.until((ds) => rows.every((r) => ds.some(match(r))), 60000);
  for (const r of rows) {
    const d = deadRecords.find(match(r))!;
    assert.equal(d.service, 'ingest');
    assert.equal(d.source.topic, topics.requests);
    assert.equal(Buffer.from(d.original, 'base64').toString(), r.value, `${r.code}: original bytes kept`);
    assert.ok(d.error.message.length > 10, `${r.code}: ${d.error.message}`);
  }
  const records = await status.until((rs) => statusesOf(rs, after).includes('sent/delivered') && rows.filter((r) => r.status).every((r) => statusesOf(rs, r.id!).length > 0), 60000);
  for (const r of rows.filter((x) => x.status)) {
    const s = records.filter((x) => x.messageId === r.id);
    assert.equal(s.length, 1, `${r.code}: one status`);
    assert.equal(s[0]!.status, 'failed');
    assert.equal(s[0]!.event, 'rejected');
    assert.ok(s[0]!.failureType && s[0]!.failureReason && s[0]!.error, `${r.code}: failure fields`);
  }
  assert.equal(records.find((x) => x.messageId === bad('missing') && x.event === 'rejected')?.error, 'required field "deliveryId" is missing');
  assert.equal(sink.received.filter((m) => m.to.includes('victim@else.example')).length, 0, 'no injected recipient ever reached SMTP');
});

test('a repeated request with the same messageId is not sent twice', async () => {
  const id = `dup-${run}`;
  const value = JSON.stringify(request(id, 'dave@example.test'));
  await producer.send({ topic: topics.requests, messages: [{ key: id, value }] });
  await status.until((rs) => statusesOf(rs, id).includes('sent/delivered'), 60000);
  await producer.send({ topic: topics.requests, messages: [{ key: id, value }] });
  // A marker sent after the duplicate on the same partition (same key) proves ingest has passed it.
  const marker = `${id}-marker`;
  await producer.send({ topic: topics.requests, messages: [{ key: id, value: JSON.stringify(request(marker, 'erin@example.test')) }] });
  const records = await status.until((rs) => statusesOf(rs, marker).includes('sent/delivered'), 60000);
  assert.deepEqual(statusesOf(records, id), ['taken_into_account/accepted', 'sent/delivered']);
  assert.equal(sink.received.filter((m) => m.raw.toString().includes(`Hello ${id}\r`)).length, 1);
});
