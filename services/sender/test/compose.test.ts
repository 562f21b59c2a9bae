import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compose, messageIdHeader } from '../src/compose.ts';
import { delivery } from './support/fixtures.ts';

test('raw content goes untouched with only an envelope', () => {
  const raw = 'From: a@b.test\r\nTo: c@d.test\r\nSubject: hi\r\nMessage-ID: <x@y>\r\n\r\nbody\r\n';
  const d = delivery({ to: 'c@d.test', mailFrom: 'bounce@b.test', content: { kind: 'raw', raw } });
  assert.deepEqual(compose(d, { idDomain: 'mta.test' }), { envelope: { from: 'bounce@b.test', to: ['c@d.test'] }, raw });
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
    headers: { 'X-Campaign': 'c1' },
    messageId: '<m-1@b.test>',
  });
  const own = delivery({ content: { kind: 'structured', subject: 's', headers: { 'Message-Id': '<own@x>' } } });
  const c = compose(own, { idDomain: 'mta.test' });
  assert.equal(c.messageId, undefined);
  assert.equal(c.text, undefined);
  assert.equal(c.html, undefined);
});

test('messageIdHeader', () => {
  assert.equal(messageIdHeader('abc', 'b@x.test', 'mta.test'), '<abc@x.test>');
  assert.equal(messageIdHeader('abc', '', 'mta.test'), '<abc@mta.test>');
  assert.equal(messageIdHeader('<abc@z>', 'b@x.test', 'mta.test'), '<abc@z>');
  assert.equal(messageIdHeader('a<b>c d', 'b@x.test', 'mta.test'), '<abcd@x.test>');
});
