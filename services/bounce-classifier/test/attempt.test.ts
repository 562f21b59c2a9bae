import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttemptCodec, MtaEventCodec, type Attempt } from '@mta/contracts';
import { classifyAttempt, shippedRules } from '../src/index.ts';

const NOW = new Date('2025-06-01T12:00:00.000Z');

function attempt(over: Partial<Attempt>): Attempt {
  const a: Attempt = {
    v: 1,
    messageId: 'm-1',
    deliveryId: 'd-1',
    tenant: 't-1',
    recipient: 'kijitora@example.com',
    recipientDomain: 'example.com',
    attempt: 2,
    acceptedAt: '2025-06-01T10:00:00.000Z',
    validUntil: '2025-06-04T22:00:00.000Z',
    startedAt: '2025-06-01T11:59:58.000Z',
    finishedAt: '2025-06-01T11:59:59.000Z',
    outcome: 'failed',
    ...over,
  };
  const checked = AttemptCodec.validate(a);
  assert.ok(checked.ok, checked.ok ? '' : checked.error.message);
  return a;
}

function valid(event: unknown): void {
  const checked = MtaEventCodec.validate(event);
  assert.ok(checked.ok, checked.ok ? '' : checked.error.message);
}

test('classifyAttempt: delivered → delivered, smtp and identity copied, no failure', () => {
  const smtp = { code: 250, enhancedCode: '2.0.0', response: '250 2.0.0 OK 1717243199 a1si123456qkf.1 - gsmtp', mx: 'gmail-smtp-in.l.google.com:25', command: 'DATA' };
  const event = classifyAttempt(attempt({ outcome: 'delivered', smtp }), NOW);
  valid(event);
  assert.deepEqual(event, {
    v: 1,
    messageId: 'm-1',
    deliveryId: 'd-1',
    tenant: 't-1',
    recipient: 'kijitora@example.com',
    event: 'delivered',
    attempt: 2,
    timestamp: '2025-06-01T11:59:59.000Z',
    validUntil: '2025-06-04T22:00:00.000Z',
    smtp,
  });
});

test('classifyAttempt: the TLS of a delivering session is copied onto the delivered event only', () => {
  const tls = { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', policy: 'opportunistic' };
  const delivered = classifyAttempt(attempt({ outcome: 'delivered', tls, smtp: { code: 250, response: '250 OK' } }), NOW);
  valid(delivered);
  assert.deepEqual(delivered.tls, tls);
  const failed = classifyAttempt(attempt({ tls, smtp: { code: 550, enhancedCode: '5.1.1', response: '550 5.1.1 User unknown', command: 'RCPT TO' } }), NOW);
  valid(failed);
  assert.equal(failed.tls, undefined);
});

test('classifyAttempt: permanent user unknown at RCPT TO → hard_bounce, Hard User unknown', () => {
  const smtp = { code: 550, enhancedCode: '5.1.1', response: "550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n550 5.1.1 double-checking the recipient's email address - gsmtp", command: 'RCPT TO' };
  const event = classifyAttempt(attempt({ smtp, error: { code: 'EENVELOPE', message: "Can't send mail - all recipients were rejected", responseCode: 550, response: smtp.response, command: 'RCPT TO' } }), NOW);
  valid(event);
  assert.equal(event.event, 'hard_bounce');
  assert.equal(event.senderSignal, false);
  assert.deepEqual(event.smtp, smtp);
  assert.deepEqual(event.failure, {
    type: 'hard',
    reasonCode: 1,
    reason: 'User unknown',
    bounceClass: 10,
    category: 'bad-mailbox',
    message: "550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address - gsmtp",
  });
});

test('classifyAttempt: transient over-quota → soft_bounce with a soft failure', () => {
  const event = classifyAttempt(
    attempt({ smtp: { code: 452, enhancedCode: '4.2.2', response: '452 4.2.2 The email account that you tried to reach is over quota. https://support.google.com/mail/?p=OverQuotaTemp', command: 'RCPT TO' } }),
    NOW,
  );
  valid(event);
  assert.equal(event.event, 'soft_bounce');
  assert.equal(event.failure?.type, 'soft');
  assert.equal(event.failure?.reasonCode, 5);
  assert.equal(event.failure?.bounceClass, 22);
});

test('classifyAttempt: a permanent 5xx about the sender is a soft_bounce, flagged senderSignal', () => {
  const event = classifyAttempt(
    attempt({
      smtp: {
        code: 550,
        enhancedCode: '5.7.1',
        response: "550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150).",
        command: 'RCPT TO',
      },
    }),
    NOW,
  );
  valid(event);
  assert.equal(event.event, 'soft_bounce');
  assert.equal(event.failure?.type, 'soft');
  assert.equal(event.failure?.reasonCode, 20);
  assert.equal(event.failure?.category, 'ip-reputation');
  assert.equal(event.senderSignal, true);
});

test('classifyAttempt: a transport error with no reply → soft_bounce, no smtp block invented', () => {
  const event = classifyAttempt(attempt({ error: { code: 'ETIMEDOUT', message: 'Connection timeout', command: 'CONN' } }), NOW);
  valid(event);
  assert.equal(event.event, 'soft_bounce');
  assert.equal(event.failure?.category, 'no-answer-from-host');
  assert.equal(event.failure?.message, 'ETIMEDOUT: Connection timeout');
  assert.equal(event.smtp, undefined);
});

test("classifyAttempt: only nodemailer's error fields → smtp rebuilt from them, classified from them", () => {
  const event = classifyAttempt(
    attempt({ error: { code: 'EENVELOPE', message: "Can't send mail", responseCode: 550, response: '550 5.1.1 <kijitora@example.com>: Recipient address rejected: User unknown in local recipient table', command: 'RCPT TO' } }),
    NOW,
  );
  valid(event);
  assert.equal(event.event, 'hard_bounce');
  assert.deepEqual(event.smtp, {
    code: 550,
    enhancedCode: '5.1.1',
    response: '550 5.1.1 <kijitora@example.com>: Recipient address rejected: User unknown in local recipient table',
    command: 'RCPT TO',
  });
});

test('classifyAttempt: a failed attempt with nothing known → soft_bounce, undetermined', () => {
  const event = classifyAttempt(attempt({}), NOW);
  valid(event);
  assert.equal(event.event, 'soft_bounce');
  assert.equal(event.failure?.category, 'undetermined');
  assert.equal(event.failure?.reasonCode, 0);
});

test('classifyAttempt: no tenant stays absent; an unparsable finishedAt falls back to now', () => {
  const a = attempt({ outcome: 'delivered', finishedAt: 'not a date' });
  delete a.tenant;
  const event = classifyAttempt(a, NOW);
  valid(event);
  assert.equal('tenant' in event, false);
  assert.equal(event.timestamp, NOW.toISOString());
});

test('classifyAttempt: rules can be passed in (e.g. a reloaded set)', () => {
  const rules = shippedRules().filter((r) => r.category !== 'bad-mailbox');
  const event = classifyAttempt(attempt({ smtp: { code: 550, response: '550 5.1.1 User unknown', command: 'RCPT TO' } }), NOW, rules);
  assert.equal(event.event, 'soft_bounce');
});
