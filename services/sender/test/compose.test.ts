import { test } from 'node:test';
import assert from 'node:assert/strict';
import MailComposer from 'nodemailer/lib/mail-composer';
import { bodyCacheHits, compose, envelopeSender, messageBytes, messageIdHeader, withTraceHeader } from '../src/compose.ts';
import { verpDecode } from '@mta/contracts';
import { delivery } from './support/fixtures.ts';

test('raw content goes untouched apart from the trace header on top', () => {
  const raw = 'From: a@b.test\r\nTo: c@d.test\r\nSubject: hi\r\nMessage-ID: <x@y>\r\n\r\nbody\r\n';
  const d = delivery({ messageId: 'm-raw', to: 'c@d.test', mailFrom: 'bounce@b.test', content: { kind: 'raw', raw } });
  assert.deepEqual(compose(d, { idDomain: 'mta.test' }), { envelope: { from: 'bounce@b.test', to: ['c@d.test'] }, raw: `X-MTA-Message-Id: m-raw\r\n${raw}` });
});

test('trace header follows the message line ending and drops control characters from the id', () => {
  assert.equal(withTraceHeader('A: b\n\nx\n', 'id\r\n1'), 'X-MTA-Message-Id: id1\nA: b\n\nx\n');
  assert.equal(withTraceHeader('A: b\r\n\r\nx', 'id'), 'X-MTA-Message-Id: id\r\nA: b\r\n\r\nx');
});

test('envelope sender: VERP on the bounce domain when configured; null sender stays null', () => {
  const d = { messageId: 'msg-42', mailFrom: 'bounce@b.test' };
  assert.equal(envelopeSender(d, undefined), 'bounce@b.test');
  const verp = envelopeSender(d, 'Bounces.Example.NET');
  assert.match(verp, /^b-[A-Za-z0-9_-]+@bounces\.example\.net$/);
  assert.equal(verpDecode(verp, ['bounces.example.net']), 'msg-42');
  assert.equal(envelopeSender({ messageId: 'x', mailFrom: '' }, 'bounces.example.net'), '');
  const c = compose(delivery({ messageId: 'msg-43' }), { idDomain: 'mta.test', bounceDomain: 'bounces.example.net' });
  assert.equal(verpDecode(c.envelope.from, ['bounces.example.net']), 'msg-43');
});

test('structured content is composed by MailComposer with Date, MIME-Version, Message-ID and the trace header', async () => {
  const d = delivery({ messageId: 'm-9', to: 'c@d.test', mailFrom: 'bounce@b.test' });
  const text = (await messageBytes(compose(d, { idDomain: 'mta.test' }))).toString('utf8');
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  assert.match(head, /^Date: \w{3}, \d{2} \w{3} \d{4} /m);
  assert.match(head, /^MIME-Version: 1\.0$/m);
  assert.match(head, /^Message-ID: <m-9@b\.test>$/m);
  assert.match(head, /^X-MTA-Message-Id: m-9$/im); // nodemailer writes the name as X-Mta-Message-ID (names are case-insensitive)
  assert.match(head, /^From: Campaign <news@sender\.test>$/m);
  assert.match(text, /Hello there/);
});

test('structured content is handed to nodemailer with a Message-ID from messageId', () => {
  const d = delivery({ messageId: 'm-1', to: 'c@d.test', mailFrom: 'bounce@b.test' });
  assert.deepEqual(compose(d, { idDomain: 'mta.test' }), {
    envelope: { from: 'bounce@b.test', to: ['c@d.test'] },
    from: 'Campaign <news@sender.test>',
    to: 'c@d.test',
    subject: 'Hello',
    text: 'Hello there',
    html: '<p>Hello there</p>',
    headers: { 'X-Campaign': 'c1', 'X-MTA-Message-Id': 'm-1' },
    messageId: '<m-1@b.test>',
  });
  const own = delivery({ content: { kind: 'structured', subject: 's', headers: { 'Message-Id': '<own@x>' } } });
  const c = compose(own, { idDomain: 'mta.test' });
  assert.equal(c.messageId, undefined);
  assert.equal(c.text, undefined);
  assert.equal(c.html, undefined);
});

test('structured content: a body reused from the cache gives the bytes a full MailComposer build gives', async () => {
  const date = new Date('2026-11-29T06:00:00Z');
  const contents = [
    { kind: 'structured' as const, subject: 'Text', text: 'Lorem ipsum dolor sit amet, '.repeat(40) },
    { kind: 'structured' as const, subject: 'Html', html: '<p>Bonjour à tous</p>\n'.repeat(20) },
    { kind: 'structured' as const, subject: 'Both', text: 'Grüße\n.dot line\n', html: '<p>Grüße</p>' },
    { kind: 'structured' as const, subject: 'Non-Latin', text: '日本語のテキスト '.repeat(30) },
  ];
  for (const content of contents) {
    const make = (i: number) => ({ ...compose(delivery({ messageId: `cache-${content.subject}-${i}`, to: `u${i}@d.test`, content }), { idDomain: 'mta.test' }), date });
    const hits = bodyCacheHits();
    const first = await messageBytes(make(1));
    const second = await messageBytes(make(2));
    assert.equal(bodyCacheHits(), hits + 1, `${content.subject}: the second message takes its body from the cache`);
    const boundary = /boundary="--_NmP-([0-9a-f]+)-Part_/.exec(second.toString('latin1'))?.[1];
    const { envelope: _e, ...mail } = make(2);
    const full = await new MailComposer({ ...mail, ...(boundary ? { baseBoundary: boundary } : {}) }).compile().build();
    assert.equal(second.toString('latin1'), full.toString('latin1'), content.subject);
    const bodyOf = (b: Buffer) => b.subarray(b.indexOf('\r\n\r\n'));
    assert.ok(bodyOf(first).equals(bodyOf(second)), `${content.subject}: same body for the same content`);
    assert.notEqual(first.toString(), second.toString(), 'per-message headers differ');
  }
});

test('messageIdHeader', () => {
  assert.equal(messageIdHeader('abc', 'b@x.test', 'mta.test'), '<abc@x.test>');
  assert.equal(messageIdHeader('abc', '', 'mta.test'), '<abc@mta.test>');
  assert.equal(messageIdHeader('<abc@z>', 'b@x.test', 'mta.test'), '<abc@z>');
  assert.equal(messageIdHeader('a<b>c d', 'b@x.test', 'mta.test'), '<abcd@x.test>');
});

test('From domain of a message, for DKIM', async () => {
  const { fromDomain } = await import('../src/dkim.ts');
  const b = (s: string) => Buffer.from(s);
  assert.equal(fromDomain(b('Subject: x\r\nFrom: "A, B" <a@Example.ORG>\r\n\r\nFrom: body@other.test\r\n')), 'example.org');
  assert.equal(fromDomain(b('from:\n  news@folded.test\n\nx')), 'folded.test');
  assert.equal(fromDomain(b('Subject: none\r\n\r\nFrom: body@other.test\r\n')), undefined);
  assert.equal(fromDomain(b('From: undisclosed\r\n\r\n')), undefined);
});

test('a burst of messages with a new content builds its body once; the others wait for it', async () => {
  const content = { kind: 'structured' as const, subject: 'Burst', text: `Burst content ${process.pid} ${Date.now()} `.repeat(50) };
  const hits = bodyCacheHits();
  const all = await Promise.all(Array.from({ length: 10 }, (_, i) => messageBytes(compose(delivery({ messageId: `burst-${i}`, to: `u${i}@d.test`, content }), { idDomain: 'mta.test' }))));
  assert.equal(bodyCacheHits(), hits + 9, 'one build, nine bodies from the cache');
  const bodyOf = (b: Buffer) => b.subarray(b.indexOf('\r\n\r\n'));
  for (const b of all) assert.ok(bodyOf(b).equals(bodyOf(all[0]!)));
});
