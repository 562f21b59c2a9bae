import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_REPLY_CHARS, normalizeReply } from '../src/index.ts';

test('normalizeReply: joins a multi-line reply and drops the repeated codes', () => {
  const n = normalizeReply({ response: '550-5.1.1 first part\r\n550-5.1.1 second part\r\n550 5.1.1  last part' });
  assert.deepEqual(n, { code: 550, enhancedCode: '5.1.1', text: 'first part second part last part', line: '550 5.1.1 first part second part last part' });
});

test('normalizeReply: LF-only multi-line replies too', () => {
  assert.equal(normalizeReply({ response: '452-4.2.2 a\n452 4.2.2 b' }).line, '452 4.2.2 a b');
});

test('normalizeReply: drops codes a DSN folded into the text', () => {
  const n = normalizeReply({ response: '550-5.7.26 This mail has been blocked. 550-5.7.26 Gmail requires all senders 550 5.7.26 to authenticate.' });
  assert.equal(n.line, '550 5.7.26 This mail has been blocked. Gmail requires all senders to authenticate.');
});

test('normalizeReply: drops folded codes of a reply without an enhanced code', () => {
  const n = normalizeReply({ response: '550-Please turn on SMTP Authentication. 550-mail0.example.com is not permitted to 550 relay through this server.' });
  assert.equal(n.line, '550 Please turn on SMTP Authentication. mail0.example.com is not permitted to relay through this server.');
});

test('normalizeReply: strips DSN and vendor decorations before the code', () => {
  assert.equal(normalizeReply({ response: 'smtp; 550 5.2.2 Mailbox Full' }).line, '550 5.2.2 Mailbox Full');
  assert.equal(normalizeReply({ response: 'Remote host said: 554 INVALID IP [RCPT_TO]' }).line, '554 INVALID IP [RCPT_TO]');
  assert.equal(normalizeReply({ response: '#550 5.2.3 RESOLVER.RST.RecipSizeLimit; too large ##' }).line, '550 5.2.3 RESOLVER.RST.RecipSizeLimit; too large ##');
  assert.equal(normalizeReply({ response: ': 550 5.1.1 <a@b>: User unknown' }).line, '550 5.1.1 <a@b>: User unknown');
});

test('normalizeReply: structured code and enhanced code win and are put in front of the text', () => {
  assert.deepEqual(normalizeReply({ code: 550, enhancedCode: '5.1.1', response: 'User unknown' }), {
    code: 550,
    enhancedCode: '5.1.1',
    text: 'User unknown',
    line: '550 5.1.1 User unknown',
  });
  assert.equal(normalizeReply({ code: 421, response: '421 4.7.0 Try again later' }).line, '421 4.7.0 Try again later');
  assert.equal(normalizeReply({ enhancedCode: 'garbage', response: '550 5.1.1 x' }).enhancedCode, '5.1.1');
});

test('normalizeReply: text without codes stays text; numbers inside are not codes', () => {
  assert.deepEqual(normalizeReply({ response: '  neko.example.com[192.0.2.2]:25:   No route to host ' }), {
    text: 'neko.example.com[192.0.2.2]:25: No route to host',
    line: 'neko.example.com[192.0.2.2]:25: No route to host',
  });
  assert.deepEqual(normalizeReply({ response: 'X-Unix; 255' }), { text: 'X-Unix; 255', line: 'X-Unix; 255' });
  assert.deepEqual(normalizeReply({}), { text: '', line: '' });
});

test('normalizeReply: a continuation line starting with another number keeps it', () => {
  assert.equal(normalizeReply({ response: '450-4.7.1 limited to\n500 messages per hour\n450 4.7.1 retry' }).line, '450 4.7.1 limited to 500 messages per hour retry');
});

test('normalizeReply: bounds a pathological reply', () => {
  const n = normalizeReply({ response: `550 ${'x'.repeat(MAX_REPLY_CHARS * 3)}` });
  assert.ok(n.text.length <= MAX_REPLY_CHARS);
});
