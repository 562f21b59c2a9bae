/**
 * The built bounce-classifier bundle with its inbound SMTP listener on the real Kafka: reports
 * sent over SMTP come out as events on mta.events keyed by the right messageId (VERP, trace
 * header), unmatched ones as dead letters, auto-replies and normal mail as nothing; relaying and
 * oversized mail are refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Admin } from 'kafkajs';
import nodemailer from 'nodemailer';
import { verpEncode, type DeadLetter, type MtaEvent, type Topics } from '@mta/contracts';
import { TOPIC_ENV } from '@mta/config';
import { collect, freePort, freshTopics, startService, testKafka, type Collected, type ServiceProcess } from '@mta/testkit';
import { arfReport, eximBounce, normalMail, postfixDsn, vacationReply } from './support/reports.ts';

const kafka = testKafka('bounce-listener');
const DOMAIN = 'bounces.test';
const run = randomUUID().slice(0, 8);
let admin: Admin;
let topics: Topics;
let service: ServiceProcess;
let port: number;
let events: Collected<MtaEvent>;
let dead: Collected<DeadLetter>;

before(async () => {
  admin = kafka.admin();
  await admin.connect();
  topics = await freshTopics(admin, 3);
  port = await freePort();
  const env: Record<string, string> = {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS!,
    MTA_GROUP_ID: `bounce-listener-${run}`,
    MTA_BOUNCE_LISTEN: `127.0.0.1:${port}`,
    MTA_BOUNCE_DOMAINS: DOMAIN,
    MTA_BOUNCE_MAX_BYTES: '65536',
  };
  for (const [id, name] of Object.entries(topics)) env[TOPIC_ENV[id as keyof Topics]] = name;
  service = await startService('bounce-classifier', env);
  events = await collect<MtaEvent>(kafka, topics.events);
  dead = await collect<DeadLetter>(kafka, topics.deadLetter);
});

after(async () => {
  const code = await service?.stop();
  await events?.stop();
  await dead?.stop();
  await admin?.disconnect();
  assert.equal(code, 0, 'exits 0 on SIGTERM');
});

async function send(to: string, raw: string) {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  try {
    return await t.sendMail({ envelope: { from: '', to: [to] }, raw });
  } finally {
    t.close();
  }
}

test('a hard DSN sent to the VERP address becomes an async_bounce for that message', async () => {
  const id = `hard-${run}`;
  const info = await send(verpEncode(id, DOMAIN), postfixDsn([['alice@example.net', '5.1.1', '550 5.1.1 <alice@example.net>: Recipient address rejected: User unknown in local recipient table']], { to: 'alice@example.net' }));
  assert.match(info.response, /^250 /);
  const all = await events.until((es) => es.some((e) => e.messageId === id));
  const e = all.find((x) => x.messageId === id)!;
  assert.equal(e.event, 'async_bounce');
  assert.equal(e.recipient, 'alice@example.net');
  assert.equal(e.failure?.type, 'hard');
  assert.equal(e.failure?.reason, 'User unknown');
  assert.equal(e.smtp?.code, 550);
  assert.equal(e.smtp?.enhancedCode, '5.1.1');
});

test('a text bounce matched by the trace header in the returned message', async () => {
  const id = `trace-${run}`;
  await send(`postmaster@${DOMAIN}`, eximBounce('bob@example.net', '552 5.2.2 Mailbox full', { to: 'bob@example.net', trace: id }));
  const all = await events.until((es) => es.some((e) => e.messageId === id));
  const e = all.find((x) => x.messageId === id)!;
  assert.equal(e.event, 'async_bounce');
  assert.equal(e.failure?.type, 'soft');
  assert.equal(e.failure?.reason, 'Mailbox full');
});

test('an ARF abuse report becomes a complaint (Denylisted address)', async () => {
  const id = `fbl-${run}`;
  await send(`fbl@${DOMAIN}`, arfReport('carol@example.net', { to: 'carol@example.net', trace: id }));
  const all = await events.until((es) => es.some((e) => e.messageId === id));
  const e = all.find((x) => x.messageId === id)!;
  assert.equal(e.event, 'complaint');
  assert.equal(e.recipient, 'carol@example.net');
  assert.equal(e.failure?.reason, 'Denylisted address');
});

test('a report that matches no message is dead-lettered with bounce_unmatched', async () => {
  const marker = `unmatched-${run}@example.net`;
  await send(`postmaster@${DOMAIN}`, postfixDsn([[marker, '5.1.1', '550 5.1.1 User unknown']], { to: marker, messageId: 'abc@elsewhere.example' }));
  const all = await dead.until((ds) => ds.some((d) => d.originalText?.includes(marker) ?? false));
  const d = all.find((x) => x.originalText?.includes(marker))!;
  assert.equal(d.error.code, 'bounce_unmatched');
  assert.equal(d.service, 'bounce-classifier');
  assert.match(d.error.message, new RegExp(marker));
});

test('auto-replies and normal mail are accepted but change nothing', async () => {
  const quiet = `quiet-${run}`;
  const last = `after-quiet-${run}`;
  await send(verpEncode(quiet, DOMAIN), vacationReply('dave@example.net'));
  await send(verpEncode(quiet, DOMAIN), normalMail());
  // Produced before 250, so once a later report's event is in, an event for `quiet` would be too.
  await send(verpEncode(last, DOMAIN), postfixDsn([['erin@example.net', '5.1.1', '550 5.1.1 User unknown']], { to: 'erin@example.net' }));
  const all = await events.until((es) => es.some((e) => e.messageId === last));
  assert.deepEqual(all.filter((e) => e.messageId === quiet), []);
});

test('the listener is not a relay and refuses oversized mail', async () => {
  await assert.rejects(send('someone@example.com', normalMail()), (err: Error & { responseCode?: number; response?: string }) => {
    assert.equal(err.responseCode, 550);
    assert.match(err.response ?? '', /5\.7\.1 Relay denied/);
    return true;
  });
  const big = postfixDsn([['frank@example.net', '5.1.1', '550 5.1.1 User unknown']], { to: 'frank@example.net' }) + 'x'.repeat(70000);
  await assert.rejects(send(verpEncode(`big-${run}`, DOMAIN), big), (err: Error & { responseCode?: number }) => {
    assert.equal(err.responseCode, 552);
    return true;
  });
});
