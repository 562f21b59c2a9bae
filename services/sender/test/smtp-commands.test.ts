import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandLog, type SmtpCommandEvent } from '../src/smtp-commands.ts';

/** Feeds a transcript (`C: ...` written by the client, `S: ...` read from the server) to a CommandLog. */
function replay(lines: (string | { owner: string })[], opts: { connecting?: boolean; end?: boolean } = {}): { events: (SmtpCommandEvent & { owner?: string })[]; log: CommandLog } {
  const events: (SmtpCommandEvent & { owner?: string })[] = [];
  const log = new CommandLog((e) => events.push(e));
  for (const l of lines) {
    if (typeof l !== 'string') {
      log.attach({ site: l.owner });
      if (opts.connecting && events.length === 0 && l === lines[0]) log.connecting();
      continue;
    }
    log.logger.debug({ tnx: l.startsWith('C: ') ? 'client' : 'server' }, l.slice(3));
  }
  if (opts.end) log.ended();
  return { events, log };
}
const summary = (events: SmtpCommandEvent[]) => events.map((e) => `${e.site}:${e.phase}:${e.command}:${e.code ?? '-'}:${e.enhancedCode ?? '-'}:${e.ok ? 'ok' : 'err'}`);

test('greeting, EHLO, STARTTLS, EHLO again, then a pipelined envelope; a reused connection', () => {
  const { events, log } = replay(
    [
      { owner: 'm1' },
      'S: 220 mx.test ESMTP',
      'C: EHLO mta.test',
      'S: 250-mx.test\n250-PIPELINING\n250 STARTTLS',
      'C: STARTTLS',
      'S: 220 2.0.0 Ready to start TLS',
      'C: EHLO mta.test',
      'S: 250-mx.test\n250 PIPELINING',
      'C: MAIL FROM:<b@sender.test>',
      'C: RCPT TO:<a@example.test>',
      'C: DATA',
      'S: 250 2.1.0 Ok',
      'S: 250 2.1.5 Ok',
      'S: 354 End data with <CR><LF>.<CR><LF>',
      'S: 250 2.0.0 Ok: queued',
      { owner: 'm2' },
      'C: MAIL FROM:<b@sender.test>',
      'C: RCPT TO:<c@example.test>',
      'C: DATA',
      'S: 250 2.1.0 Ok',
      'S: 550 5.1.1 No such user',
      'S: 554 5.5.1 Error: no valid recipients',
      'C: RSET',
      'S: 250 2.0.0 Ok',
    ],
    { connecting: true },
  );
  assert.deepEqual(summary(events), [
    'm1:connect:CONNECT:220:-:ok',
    'm1:ehlo:EHLO:250:-:ok',
    'm1:tls:STARTTLS:220:2.0.0:ok',
    'm1:ehlo:EHLO:250:-:ok',
    'm1:mail:MAIL FROM:250:2.1.0:ok',
    'm1:rcpt:RCPT TO:250:2.1.5:ok',
    'm1:data:DATA:250:2.0.0:ok',
    'm2:mail:MAIL FROM:250:2.1.0:ok',
    'm2:rcpt:RCPT TO:550:5.1.1:err',
    'm2:data:DATA:554:5.5.1:err',
  ]);
  assert.equal(log.dataSent, true);
  for (const e of events) assert.ok(e.end >= e.start);
});

test('DATA taken without an accepted recipient: the lone dot belongs to DATA, the next message lines up', () => {
  const { events } = replay([
    { owner: 'm1' },
    'C: MAIL FROM:<b@sender.test>',
    'C: RCPT TO:<x@example.test>',
    'C: DATA',
    'S: 250 Ok',
    'S: 550 5.1.1 unknown',
    'S: 354 go ahead',
    'C: .',
    'S: 250 Ok: empty message',
    { owner: 'm2' },
    'C: MAIL FROM:<b@sender.test>',
    'C: RCPT TO:<y@example.test>',
    'C: DATA',
    'S: 250 2.1.0 Ok',
    'S: 250 2.1.5 Ok',
    'S: 354 go ahead',
    'S: 250 2.0.0 queued',
  ]);
  assert.deepEqual(summary(events).filter((e) => e.startsWith('m2')), ['m2:mail:MAIL FROM:250:2.1.0:ok', 'm2:rcpt:RCPT TO:250:2.1.5:ok', 'm2:data:DATA:250:2.0.0:ok']);
});

test('the connection ends with commands waiting: they end as errors without a reply code; before any 354 nothing was sent', () => {
  const { events, log } = replay([{ owner: 'm1' }, 'C: MAIL FROM:<b@sender.test>', 'C: RCPT TO:<a@example.test>', 'C: DATA', 'S: 250 2.1.0 Ok'], { end: true });
  assert.deepEqual(summary(events), ['m1:mail:MAIL FROM:250:2.1.0:ok', 'm1:rcpt:RCPT TO:-:-:err', 'm1:data:DATA:-:-:err']);
  assert.equal(log.dataSent, false);
});
