import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findCommand, findReplyCode, parseBounce } from '../src/bounce/parse.ts';
import { qualifyReport } from '../src/bounce/qualify.ts';
import { correlate } from '../src/listener/correlate.ts';
import { decideIntake } from '../src/listener/intake.ts';
import { shippedRules } from '../src/rules.ts';
import { verpEncode, MtaEventCodec, DeadLetterCodec } from '@mta/contracts';
import { arfReport, eximBounce, normalMail, postfixDsn, qmailBounce, vacationReply } from './support/reports.ts';

const rules = shippedRules();
const summary = (raw: string) =>
  qualifyReport(parseBounce(raw), rules).map((q) => ({ recipient: q.recipient, outcome: q.outcome, type: q.failure.type, reason: q.failure.reasonCode, category: q.failure.category }));

test('RFC 3464: a multi-recipient DSN gives each recipient its own outcome', () => {
  const raw = postfixDsn(
    [
      ['gone@example.net', '5.1.1', '550 5.1.1 <gone@example.net>: Recipient address rejected: User unknown in local recipient table'],
      ['full@example.net', '5.2.2', '552 5.2.2 <full@example.net>: user is over quota'],
      ['blocked@example.net', '5.7.1', '554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1'],
      ['later@example.net', '4.4.7', '421 4.4.7 Delivery time expired', 'delayed'],
    ],
    { to: 'x@example.net', messageId: 'm-1@bounces.test' },
  );
  const report = parseBounce(raw);
  assert.equal(report.kind, 'dsn');
  assert.equal(report.format, 'rfc3464');
  assert.equal(report.original.messageId, 'm-1@bounces.test');
  assert.deepEqual(summary(raw), [
    { recipient: 'gone@example.net', outcome: 'bounce', type: 'hard', reason: 1, category: 'bad-mailbox' },
    { recipient: 'full@example.net', outcome: 'bounce', type: 'soft', reason: 5, category: 'quota-issues' },
    { recipient: 'blocked@example.net', outcome: 'bounce', type: 'soft', reason: 20, category: 'ip-reputation' },
    // A delay warning: soft, status unchanged.
    { recipient: 'later@example.net', outcome: 'bounce', type: 'soft', reason: 3, category: 'message-expired' },
  ]);
  const blocked = qualifyReport(report, rules)[2]!;
  assert.equal(blocked.senderSignal, true, 'a block list is a signal about the sender');
});

test('per-recipient fields: status, reply code, phase and remote MTA', () => {
  const [r] = parseBounce(postfixDsn([['a@example.net', '5.1.1', '550 5.1.1 <a@example.net>: User unknown']], { to: 'a@example.net' })).recipients;
  assert.equal(r!.status, '5.1.1');
  assert.equal(r!.replyCode, 550);
  assert.equal(r!.command, 'RCPT TO');
  assert.equal(r!.remoteMta, 'mx.example.net');
  assert.equal(r!.diagnostic, '550 5.1.1 <a@example.net>: User unknown');
});

test('text bounces of other MTAs (Exim, qmail) are read from their prose', () => {
  const exim = parseBounce(eximBounce('bob@example.net', '550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown', { to: 'bob@example.net', trace: 'm-2' }));
  assert.equal(exim.kind, 'text');
  assert.equal(exim.format, 'exim');
  assert.equal(exim.original.mtaMessageId, 'm-2');
  assert.deepEqual(summary(eximBounce('bob@example.net', '550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown', { to: 'bob@example.net' })), [
    { recipient: 'bob@example.net', outcome: 'bounce', type: 'hard', reason: 1, category: 'bad-mailbox' },
  ]);
  assert.deepEqual(summary(qmailBounce('carol@example.net', "Sorry, no mailbox here by that name. (#5.1.1)", { to: 'carol@example.net' })), [
    { recipient: 'carol@example.net', outcome: 'bounce', type: 'hard', reason: 1, category: 'bad-mailbox' },
  ]);
  assert.deepEqual(summary(qmailBounce('dave@example.net', 'Sorry, I couldn\'t find any host named example.net. (#5.1.2)', { to: 'dave@example.net' })), [
    { recipient: 'dave@example.net', outcome: 'bounce', type: 'hard', reason: 2, category: 'bad-domain' },
  ]);
});

test('a refusal after DATA is never Hard: a content filter talks, not the mailbox', () => {
  const raw = postfixDsn([['a@example.net', '5.0.0', '550 5.0.0 Unknown user a@example.net']], { to: 'a@example.net' }).replace('(in reply to RCPT TO command)', '(in reply to end of DATA command)');
  assert.equal(summary(raw)[0]!.type, 'soft');
});

/** A bounce in a vendor's own text format: headers, a blank line, the body (LF line ends). */
const textMail = (headers: string, body: string) => `${headers.trim()}\n\n${body.replace(/^\n/, '')}`;

test('Sendmail summary without a code: the server\'s <<< reply of that conversation decides (corpus lhost-v5sendmail-07.eml)', () => {
  const raw = textMail(
    'From: Mail Delivery Subsystem <MAILER-DAEMON@example.co.jp>\nTo: shironeko@example.co.jp\nSubject: Returned mail: Remote protocol error',
    `
   ----- Transcript of session follows -----
While talking to mailin1.example.org:
>>> MAIL From:<shironeko@example.co.jp>
<<< 501 <shironeko@example.co.jp>... no access from mail server [192.0.2.55] which is an open relay.
554 <kijitora@example.org>... Remote protocol error
While talking to smtp.example.edu:
>>> RCPT To:<hachiware@example.edu>
<<< 550 <hachiware@example.edu>... User unknown
550 <hachiware@example.edu>... User unknown
   ----- Unsent message follows -----
`,
  );
  const report = parseBounce(raw);
  const kijitora = report.recipients.find((r) => r.recipient === 'kijitora@example.org')!;
  assert.match(kijitora.diagnostic, /^501 <shironeko@example\.co\.jp>\.\.\. no access from mail server/);
  assert.equal(kijitora.command, 'MAIL FROM');
  const q = qualifyReport(report, rules);
  assert.deepEqual(
    q.map((r) => [r.recipient, r.failure.type, r.failure.reasonCode]),
    [
      ['kijitora@example.org', 'soft', 20],
      ['hachiware@example.edu', 'hard', 1],
    ],
  );
});

test('Postfix session transcript: the last 4xx/5xx Out: reply is the error, not the EHLO capabilities (corpus lhost-postfix-75.eml)', () => {
  const raw = textMail(
    'From: MAILER-DAEMON@mx22.example.com (Mail Delivery System)\nTo: postmaster@mx22.example.com\nSubject: Postfix SMTP server: errors from neko2.example.co.jp',
    `
Transcript of session follows.

 Out: 220 mx22.example.com ESMTP MAIL SYSTEM
 In:  EHLO mx22.example.com
 Out: 250-mx22.example.com
 Out: 250-STARTTLS
 Out: 250 CHUNKING
 In:  MAIL FROM:<sender@err.example.co.jp>
 Out: 250 2.1.0 Ok
 In:  RCPT TO:<kijitora@libsisimai.net> ORCPT=rfc822;kijitora@libsisimai.net
 Out: 250 2.1.5 Ok
 In:  DATA
 Out: 354 End data with <CR><LF>.<CR><LF>
 Out: 451 4.3.0 Error: queue file write error
 In:  QUIT
 Out: 221 2.0.0 Bye
`,
  );
  const all = qualifyReport(parseBounce(raw), rules);
  // The recipient is the `In:  RCPT TO:` line, not every address of the transcript (MAIL FROM is ours).
  assert.deepEqual(all.map((r) => r.recipient), ['kijitora@libsisimai.net']);
  const q = all[0]!;
  assert.equal(q.failure.message, '451 4.3.0 Error: queue file write error');
  assert.deepEqual([q.failure.type, q.failure.reasonCode, q.failure.category], ['soft', 3, 'remote-system-error']);
});

test('qmail: "but my name was rejected" is the HELO phase, about our host (corpus lhost-qmail-04.eml)', () => {
  const raw = textMail(
    'From: MAILER-DAEMON@mx.example.jp\nTo: postmaster@example.jp\nSubject: failure notice',
    `
Hi. This is the qmail-send program at mx.example.jp.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<kijitora@example.net>:
Connected to 192.0.2.112 but my name was rejected.
Remote host said: 501 5.0.0 Invalid domain name
I'm not going to try again; this message has been in the queue too long.

--- Below this line is a copy of the message.
`,
  );
  const [r] = parseBounce(raw).recipients;
  assert.equal(r!.command, 'HELO');
  const [q] = qualifyReport(parseBounce(raw), rules);
  assert.deepEqual([q!.failure.type, q!.failure.reasonCode, q!.failure.category, q!.senderSignal], ['soft', 20, 'policy-related', true]);
});

test('an unfolded Content-Type parameter line still gives the boundary (Verizon / Apache James bounces, corpus lhost-verizon-02.eml)', () => {
  const raw = [
    'From: post_master@vtext.com',
    'To: sender@example.org',
    'Subject: Re:Nyaan',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="----=_B_0"',
    '',
    '------=_B_0',
    'Content-Type: multipart/alternative;',
    'boundary="----=_X_1"',
    '',
    '------=_X_1',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'Error: Invalid user address',
    '',
    'Error message below:',
    '550 - Requested action not taken: no such user here',
    '',
    'Message details:',
    '  Subject: Test message',
    '  MAIL FROM: sender@example.org',
    '  RCPT TO: may-be-straycat@vtext.com',
    '------=_X_1--',
    '------=_B_0--',
    '',
  ].join('\n');
  assert.deepEqual(summary(raw), [{ recipient: 'may-be-straycat@vtext.com', outcome: 'bounce', type: 'hard', reason: 1, category: 'bad-mailbox' }]);
});

test('ARF abuse reports are complaints; other feedback types are not', () => {
  assert.deepEqual(summary(arfReport('e@example.net', { to: 'e@example.net' })), [{ recipient: 'e@example.net', outcome: 'complaint', type: 'hard', reason: 8, category: 'complaint' }]);
  assert.equal(summary(arfReport('e@example.net', { to: 'e@example.net' }, 'auth-failure'))[0]!.outcome, 'ignored');
});

test('auto-replies are ignored; a normal email is not a bounce', () => {
  const auto = parseBounce(vacationReply('Frank <frank@example.net>'));
  assert.equal(auto.kind, 'auto-reply');
  assert.deepEqual(summary(vacationReply('frank@example.net')), [{ recipient: 'frank@example.net', outcome: 'ignored', type: 'ignored', reason: 25, category: 'auto-reply' }]);
  const normal = parseBounce(normalMail());
  assert.equal(normal.kind, 'not-bounce');
  assert.deepEqual(qualifyReport(normal, rules), []);
});

test('garbage never throws', () => {
  for (const raw of ['', '\u0000\u0001\u0002', 'Content-Type: multipart/report; boundary=x\n\n--x\nContent-Type: message/delivery-status\n\nAction: failed\n', 'x'.repeat(100000)]) {
    const r = parseBounce(Buffer.from(raw));
    assert.ok(['not-bounce', 'dsn', 'text'].includes(r.kind));
  }
});

test('correlation: VERP first, then the trace header, then one of our Message-IDs', () => {
  const report = parseBounce(postfixDsn([['a@example.net', '5.1.1', '550 5.1.1 User unknown']], { to: 'a@example.net', trace: 'from-trace', messageId: 'from-mid@bounces.test' }));
  const opts = { domains: ['bounces.test'] };
  assert.deepEqual(correlate(report, [verpEncode('from-verp', 'bounces.test')], opts), { messageId: 'from-verp', by: 'verp' });
  assert.deepEqual(correlate(report, ['postmaster@bounces.test'], opts), { messageId: 'from-trace', by: 'trace-header' });
  const noTrace = parseBounce(postfixDsn([['a@example.net', '5.1.1', '550 5.1.1 User unknown']], { to: 'a@example.net', messageId: 'from-mid@bounces.test' }));
  assert.deepEqual(correlate(noTrace, ['postmaster@bounces.test'], opts), { messageId: 'from-mid', by: 'message-id' });
  const foreign = parseBounce(postfixDsn([['a@example.net', '5.1.1', '550 5.1.1 User unknown']], { to: 'a@example.net', messageId: 'x@gmail.example' }));
  assert.equal(correlate(foreign, ['postmaster@bounces.test'], opts), undefined);
  assert.deepEqual(correlate(foreign, ['postmaster@bounces.test'], { ...opts, messageIdDomains: ['gmail.example'] }), { messageId: 'x', by: 'message-id' });
});

test('intake: events for matched reports, dead letters for unmatched ones, nothing for auto-replies', () => {
  const opts = { topics: { events: 'ev', deadLetter: 'dl' }, service: 'bounce-classifier', domains: ['bounces.test'] };
  const env = { mailFrom: '', rcptTo: [verpEncode('m-9', 'bounces.test')], remoteAddress: '192.0.2.1', id: 's1.1' };
  const now = new Date('2026-11-29T10:00:00Z');
  const hard = decideIntake(Buffer.from(postfixDsn([['a@example.net', '5.1.1', '550 5.1.1 User unknown'], ['b@example.net', '4.2.2', '452 4.2.2 Mailbox full']], { to: 'a@example.net' })), env, rules, opts, now);
  assert.equal(hard.result, 'async_bounce');
  assert.equal(hard.records.length, 1);
  assert.equal(hard.records[0]!.key, 'm-9');
  const ev = MtaEventCodec.decode(Buffer.from(hard.records[0]!.value as string));
  assert.ok(ev.ok);
  if (ev.ok) {
    assert.equal(ev.value.event, 'async_bounce');
    assert.equal(ev.value.failure?.type, 'hard', 'the most severe recipient outcome is reported');
    assert.equal(ev.value.recipient, 'a@example.net');
  }
  const unmatched = decideIntake(Buffer.from(postfixDsn([['a@example.net', '5.1.1', '550 5.1.1 User unknown']], { to: 'a@example.net' })), { ...env, rcptTo: ['postmaster@bounces.test'] }, rules, opts, now);
  assert.equal(unmatched.result, 'unmatched');
  const dl = DeadLetterCodec.decode(Buffer.from(unmatched.records[0]!.value as string));
  assert.ok(dl.ok && dl.value.error.code === 'bounce_unmatched');
  // a complaint names the sending IP of the reported message (ARF Source-IP), for the throttle's complaint ratio
  const fbl = decideIntake(Buffer.from(arfReport('c@example.net', { to: 'c@example.net' })), env, rules, opts, now);
  const ce = MtaEventCodec.decode(Buffer.from(fbl.records[0]!.value as string));
  assert.ok(ce.ok && ce.value.event === 'complaint' && ce.value.sourceIp === '192.0.2.1');
  assert.ok(ev.ok && ev.value.sourceIp === undefined, 'bounces do not carry it');
  assert.deepEqual(decideIntake(Buffer.from(vacationReply('z@example.net')), env, rules, opts, now).records, []);
  assert.equal(decideIntake(Buffer.from(normalMail()), env, rules, opts, now).result, 'not_bounce');
});

test('phase markers of real reports: each names the command the quoted reply answered', () => {
  const rows: [string, string, string | undefined][] = [
    // Postfix folds its note across lines (corpus lhost-postfix-36.eml)
    ['Postfix, folded', 'said: 550\n    <a@ezweb.ne.jp>: User unknown (in reply to\n    RCPT TO command)', 'RCPT TO'],
    ['Postfix, end of DATA', '550 5.7.1 Message rejected (in reply to end of DATA command)', 'DATA'],
    // qmail-remote's RCPT TO failure (corpus lhost-qmail-02.eml)
    ['qmail', '192.0.2.153 does not like recipient.\nRemote host said: 550 5.2.1 <filtered@example.jp>... User Unknown', 'RCPT TO'],
    // Yahoo's bracketed phase (corpus lhost-yahoo-05.eml)
    ['Yahoo', '550 5.2.1 <kijitora@example.co.jp>... User Unknown [RCPT_TO]', 'RCPT TO'],
    // a gateway's "SMTP:RCPT host" (corpus lhost-x3-01.eml)
    ['SMTP:RCPT', 'SMTP:RCPT host 192.0.2.8: 553 5.3.0 <kijitora@example.com>... No such user here', 'RCPT TO'],
    // Postfix smtpd's RCPT-only wording (corpus lhost-dragonfly-09.eml)
    ['Recipient address rejected', '550 5.2.1 <filtered@libsisimai.net>: Recipient address rejected: User unknown.', 'RCPT TO'],
    ['none', '550 Unknown user kijitora@example.co.jp', undefined],
  ];
  for (const [name, text, want] of rows) assert.equal(findCommand(text), want, name);
});

test('findReplyCode skips a 2xx-looking number before the reply (corpus lhost-verizon-02.eml: "Size (in bytes): 222")', () => {
  assert.equal(findReplyCode('Size (in bytes): 222\nError message below:\n550 - Requested action not taken: no such user here'), 550);
  assert.equal(findReplyCode('Size (in bytes): 222'), undefined);
});

test('a quoted "user unknown" with no phase and no addressing status is Soft "User unknown"; RCPT TO or X.1.1 keeps it Hard', () => {
  const noPhase = (status: string, reply: string) =>
    summary(postfixDsn([['a@example.net', status, reply]], { to: 'a@example.net' }).replace(' (in reply to RCPT TO command)', ''));
  // a filtering gateway's DSN (corpus lhost-mcafee-01.eml, lhost-surfcontrol-01.eml: sisimai filtered)
  assert.deepEqual(noPhase('5.0.0', '550 Unknown user a@example.net'), [{ recipient: 'a@example.net', outcome: 'bounce', type: 'soft', reason: 1, category: 'bad-mailbox' }]);
  // X.2.1 is not an addressing status (corpus lhost-zoho-02.eml, lhost-sendmail-02.eml)
  assert.equal(noPhase('5.2.1', '550 5.2.1 <a@example.net>... User Unknown')[0]!.type, 'soft');
  // an addressing status confirms (corpus lhost-mcafee-02.eml; Microsoft's 5.1.351, lhost-office365-09.eml)
  assert.equal(noPhase('5.1.1', '550 5.1.1 <a@example.net>... User unknown')[0]!.type, 'hard');
  assert.equal(noPhase('5.1.351', '550 5.1.351 Remote server returned unknown recipient or mailbox unavailable -> 550 Unknown user a@example.net')[0]!.type, 'hard');
  // the same reply with the Postfix note: RCPT TO, Hard
  assert.equal(summary(postfixDsn([['a@example.net', '5.0.0', '550 Unknown user a@example.net']], { to: 'a@example.net' }))[0]!.type, 'hard');
  // qmail's "does not like recipient" is RCPT TO (corpus lhost-qmail-02.eml)
  assert.equal(summary(qmailBounce('b@example.net', '192.0.2.153 does not like recipient.\nRemote host said: 550 5.2.1 <b@example.net>... User Unknown\nGiving up on 192.0.2.153.', { to: 'b@example.net' }))[0]!.type, 'hard');
});

test('a report that quotes no reply is the reporter\'s own verdict (Domino directory, corpus lhost-domino-01.eml): Hard', () => {
  const raw = [
    'From: Postmaster <postmaster@example.jp>',
    'To: b-xyz@bounces.test',
    'Subject: DELIVERY FAILURE: User some.name (kijitora@example.jp) not listed in Domino Directory',
    '',
    'Your message',
    '',
    '  Subject: Spring sale',
    '',
    'was not delivered to:',
    '',
    '  kijitora@example.jp',
    '',
    'because:',
    '',
    '  User some.name (kijitora@example.jp) not listed in Domino Directory',
    '',
  ].join('\n');
  assert.deepEqual(summary(raw), [{ recipient: 'kijitora@example.jp', outcome: 'bounce', type: 'hard', reason: 1, category: 'bad-mailbox' }]);
});

test('Verizon MMS notice: the reason is in the preamble above the `To:` line (corpus lhost-verizon-01.eml)', () => {
  const raw = [
    'From: MMSC NDR Administrator <sysadmin@m01.vzwpix.com>',
    'To: sender@example.jp',
    'Subject: Undeliverable Message',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="----=ThisIsTheBoundaryStringaaa"',
    '',
    '------=ThisIsTheBoundaryStringaaa',
    'Content-Type: text/plain; charset=US-ASCII',
    '',
    'Message could not be delivered to mobile.',
    'Error: No valid recipients for this MM',
    '',
    'Original Message:',
    'From: sender <sender@example.jp>',
    'To: 0000000000@vzwpix.com',
    'Subject: test for bounce',
    '------=ThisIsTheBoundaryStringaaa--',
    '',
  ].join('\n');
  assert.deepEqual(summary(raw), [{ recipient: '0000000000@vzwpix.com', outcome: 'bounce', type: 'hard', reason: 1, category: 'bad-mailbox' }]);
});

test('a mailing list refusing a non-member post: the list address fails, about our sender, Soft (corpus lhost-fml-02.eml)', () => {
  const raw = [
    'Return-Path: <neko-admin@example.org>',
    'Subject: You sender@example.jp are not member (neko-nyaan ML)',
    'To: sender@example.jp',
    'Message-ID: <200504292334.FMLFFFFFF0.neko-nyaan@example.org>',
    'X-MLServer: fml [fml 4.0.3 release (20011202/4.0.3)]',
    'List-Subscribe: <mailto:neko-nyaan-ctl@example.org?body=subscribe>',
    'From: neko-admin@example.org',
    '',
    'You are not a member of this mailing list <neko-nyaan@example.org>.',
    '',
    'If you know the general guide of this list, please send mail with',
    'the mail body',
    '',
    '\tguide',
    '',
  ].join('\n');
  const report = parseBounce(raw);
  assert.equal(report.format, 'mailing-list');
  const [q] = qualifyReport(report, rules);
  assert.deepEqual([q!.recipient, q!.failure.type, q!.failure.reasonCode, q!.failure.category, q!.senderSignal], ['neko-nyaan@example.org', 'soft', 20, 'sender-rejected', true]);
  // the same words without list headers are not taken for a list refusal
  assert.notEqual(parseBounce(raw.replace(/^X-MLServer:.*\n|^List-Subscribe:.*\n/gm, '')).format, 'mailing-list');
});

test('a redacted ARF complaint naming no recipient: one complaint, empty recipient, tied to the message by the returned headers (corpus arf-11.eml)', () => {
  const raw = arfReport('', { to: '<Undisclosed Recipients>', trace: 'm-arf' }).replace(/^Original-Rcpt-To: \r\n/m, '');
  assert.deepEqual(summary(raw), [{ recipient: '', outcome: 'complaint', type: 'hard', reason: 8, category: 'complaint' }]);
  const opts = { topics: { events: 'ev', deadLetter: 'dl' }, service: 'bounce-classifier', domains: ['bounces.test'] };
  const env = { mailFrom: '', rcptTo: ['fbl@bounces.test'], remoteAddress: '192.0.2.1', id: 's1.2' };
  const d = decideIntake(Buffer.from(raw), env, rules, opts, new Date('2026-11-29T10:00:00Z'));
  assert.equal(d.result, 'complaint');
  assert.deepEqual(d.correlation, { messageId: 'm-arf', by: 'trace-header' });
  const ev = MtaEventCodec.decode(Buffer.from(d.records[0]!.value as string));
  assert.ok(ev.ok && ev.value.event === 'complaint' && ev.value.recipient === '');
});
