import { test } from 'node:test';
import assert from 'node:assert/strict';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Content } from '@mta/contracts';
import { compose, messageBytes } from '../src/compose.ts';
import { headerTemplateStats } from '../src/header-template.ts';
import { delivery } from './support/fixtures.ts';

/** What a full MailComposer build writes for the same message (same boundary); Date lines compared apart. */
async function fullBuild(c: ReturnType<typeof compose>, boundary: string | undefined): Promise<Buffer> {
  const { envelope: _e, ...mail } = c;
  return new MailComposer({ ...mail, ...(boundary ? { baseBoundary: boundary } : {}) }).compile().build();
}
const DATE = /^Date: (.*)$/m;
const withoutDate = (b: Buffer) => b.toString('latin1').replace(DATE, 'Date: -');

const text = 'Lorem ipsum dolor sit amet, '.repeat(40);
const cases: { name: string; templated: boolean; over: Parameters<typeof delivery>[0]; content?: Partial<Extract<Content, { kind: 'structured' }>> }[] = [
  { name: 'plain', templated: true, over: {} },
  { name: 'per-recipient custom headers', templated: true, over: {}, content: { headers: { 'List-Unsubscribe': '<https://u.example/x?t=RCPT>', 'X-Campaign': 'c1', 'Feedback-ID': 'a:b:c' } } },
  { name: 'own Message-Id header', templated: false, over: {}, content: { headers: { 'Message-Id': '<own-RCPT@x.test>' } } },
  { name: 'html only', templated: true, over: {}, content: { text: undefined, html: '<p>Bonjour à tous</p>' } },
  { name: 'text and html (multipart)', templated: true, over: {}, content: { text: 'Grüße\n.dot line\n', html: '<p>Grüße</p>' } },
  { name: 'non-ASCII subject (encoded word)', templated: false, over: {}, content: { subject: 'Grüße RCPT' } },
  { name: 'long subject (folded)', templated: false, over: {}, content: { subject: 'A subject long enough to be folded by nodemailer at seventy-six characters RCPT' } },
  { name: 'subject looking like an encoded word (nodemailer keeps it)', templated: true, over: {}, content: { subject: '=?utf-8?Q?RCPT?=' } },
  { name: 'empty subject', templated: false, over: {}, content: { subject: '' } },
  { name: 'blank custom header value', templated: false, over: {}, content: { headers: { 'X-Empty': ' ' } } },
  { name: 'non-ASCII custom header value', templated: false, over: {}, content: { headers: { 'X-Name': 'Zoë RCPT' } } },
  { name: 'long message id (folded)', templated: false, over: { messageId: `${'m'.repeat(70)}-RCPT` } },
  { name: 'long recipient address (folded)', templated: false, over: { to: `${'a'.repeat(70)}RCPT@example.test` } },
  { name: 'quoted local part', templated: false, over: { to: '"a b"RCPT@example.test' } },
  { name: 'non-ASCII From name', templated: true, over: { from: 'Zoë Café <news@sender.test>' } },
  { name: 'header nodemailer treats itself (Bcc)', templated: false, over: {}, content: { headers: { Bcc: 'x@y.test' } } },
];

test('templated header blocks are byte for byte what a full MailComposer build writes, or are not used', async () => {
  for (const [k, { name, templated, over, content }] of cases.entries()) {
    for (let i = 1; i <= 3; i++) {
      const base = delivery();
      const c0 = { ...(base.content as Extract<Content, { kind: 'structured' }>), text, ...content };
      const fill = (s: string | undefined) => s?.replace('RCPT', `r${i}`);
      const headers = c0.headers ? Object.fromEntries(Object.entries(c0.headers).map(([k, v]) => [k, fill(v)!])) : undefined;
      const d = delivery({
        messageId: `tpl-${k}-${i}`,
        ...over,
        ...(over?.messageId ? { messageId: fill(over.messageId)! } : {}),
        ...(over?.to ? { to: fill(over.to)! } : {}),
        content: { ...c0, subject: fill(c0.subject)!, ...(headers ? { headers } : {}) },
      });
      const c = compose(d, { idDomain: 'mta.test' });
      const before = headerTemplateStats().used;
      const bytes = await messageBytes(c);
      const usedTemplate = headerTemplateStats().used > before;
      // The first message of a content builds its body in full; later ones take the cached body.
      if (i > 1) assert.equal(usedTemplate, templated, `${name} #${i}: template ${templated ? '' : 'not '}used`);
      const boundary = /boundary="--_NmP-([0-9a-f]+)-Part_/.exec(bytes.toString('latin1'))?.[1];
      const full = await fullBuild(c, boundary);
      assert.equal(withoutDate(bytes), withoutDate(full), `${name} #${i}`);
      assert.match(bytes.toString('latin1'), /^Date: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/m);
      const date = Date.parse(DATE.exec(bytes.toString('latin1'))![1]!.replace('+0000', 'GMT'));
      assert.ok(Math.abs(date - Date.now()) < 5000, `${name}: Date is now`);
    }
  }
});

test('values known to be written verbatim are exactly those nodemailer writes verbatim', async () => {
  const { default: MimeNode } = await import('nodemailer/lib/mime-node');
  const node = new MimeNode('text/plain') as unknown as { encodeHeaderValue(k: string, v: string): string };
  const { verbatimForTest } = await import('../src/header-template.ts');
  const samples = ['Bench message 1', 'a', 'x=?y', '=?utf-8?Q?a?=', 'say "hi"', 'tab\there', 'Zoë', 'del\x7f', 'ctl\x01', '<id@x>', '<id@x', 'id@x>', '<>', '<', 'a <b> c', '!#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'];
  for (const key of ['Subject', 'X-Mta-Message-ID', 'List-Unsubscribe', 'Message-ID', 'To', 'References'])
    for (const value of samples) if (verbatimForTest(key, value)) assert.equal(node.encodeHeaderValue(key, value), value, `${key}: ${value}`);
  assert.equal(verbatimForTest('Subject', 'Bench message 1'), true);
  assert.equal(verbatimForTest('Message-ID', '<id@x>'), true);
  // To: plain lower-case addresses only, each checked against nodemailer itself.
  const addresses = ['a@b.test', 'user123@d7.bench.test', 'first.last+tag@sub-domain.example.com', 'x_y-z@a1.b2', 'a@xn--jgeva-dua.ee', 'a--b@c.test', 'a@b--c.test', 'A@b.test', 'a@B.test', 'a..b@c.test', '.a@c.test', 'a.@c.test', 'a@-b.test', 'a@b-.test', 'a@localhost', 'Brand <a@b.test>', 'a@b.test, c@d.test', 'a@[127.0.0.1]', 'a@jõgeva.ee', 'é@b.test', `a@${'x'.repeat(64)}.test`, `a@${'x'.repeat(63)}.test`];
  for (const value of addresses) if (verbatimForTest('To', value)) assert.equal(node.encodeHeaderValue('To', value), value, `To: ${value}`);
  assert.deepEqual(
    addresses.filter((a) => verbatimForTest('To', a)),
    ['a@b.test', 'user123@d7.bench.test', 'first.last+tag@sub-domain.example.com', 'x_y-z@a1.b2', `a@${'x'.repeat(63)}.test`],
  );
});
