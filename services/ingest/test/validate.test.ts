import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateRequest } from '../src/validate.ts';
import { effectiveValidity } from '../src/validity.ts';
import { loadConfig } from '@mta/config';
import { ingestKeys } from '../src/config.ts';

const now = new Date('2026-11-29T10:00:00.000Z');
const opts = { maxMessageBytes: 2000, validityCapMs: 84 * 3600_000 };
const base = { messageId: 'm1', deliveryId: 'd1', from: 'News <news@brand.example>', to: 'Alice@Example.TEST', subject: 'Hi', text: 'Hello' };
const check = (body: unknown) => validateRequest(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), opts, now);

test('a valid structured request becomes a queued message', () => {
  const r = check({ ...base, headers: { 'X-Campaign': 'c1' }, ipPool: 'p1', tenant: 't1' });
  assert.ok(r.ok);
  assert.deepEqual(r.message, {
    v: 1,
    messageId: 'm1',
    deliveryId: 'd1',
    tenant: 't1',
    ipPool: 'p1',
    from: 'News <news@brand.example>',
    mailFrom: 'news@brand.example',
    to: 'Alice@example.test',
    recipientDomain: 'example.test',
    content: { kind: 'structured', subject: 'Hi', text: 'Hello', headers: { 'X-Campaign': 'c1' } },
    acceptedAt: '2026-11-29T10:00:00.000Z',
    validUntil: '2026-12-02T22:00:00.000Z',
    attempt: 1,
  });
});

test('a raw RFC 5322 message is accepted untouched', () => {
  const raw = 'From: a@b.example\r\nTo: c@d.example\r\nSubject: x\r\n\r\nbody\r\n';
  const r = check({ messageId: 'm', deliveryId: 'd', from: 'a@b.example', to: 'c@d.example', raw });
  assert.ok(r.ok);
  assert.deepEqual(r.message.content, { kind: 'raw', raw });
});

test('bad requests are rejected with a specific code, field and Campaign failure', () => {
  const rows: [string, unknown, string, string | undefined, string, RegExp][] = [
    // name, body, code, field, failure type, message
    ['malformed JSON', '{"messageId": "m1",', 'malformed_json', undefined, 'ignored', /not valid JSON/],
    ['JSON array', '[1,2]', 'malformed_json', undefined, 'ignored', /must be a JSON object, got an array/],
    ['missing messageId', { ...base, messageId: undefined }, 'missing_field', 'messageId', 'ignored', /"messageId" is missing/],
    ['missing to', { ...base, to: '' }, 'missing_field', 'to', 'hard', /"to" is missing/],
    ['number as deliveryId', { ...base, deliveryId: 42 }, 'invalid_field', 'deliveryId', 'ignored', /deliveryId/],
    ['CR/LF in subject', { ...base, subject: 'Hi\r\nBcc: victim@x.example' }, 'header_injection', 'subject', 'ignored', /"subject" contains CR or LF/],
    ['CR/LF in address', { ...base, to: 'a@b.example\r\nRCPT TO:<x@y.example>' }, 'header_injection', 'to', 'ignored', /"to" contains CR or LF/],
    ['LF in header value', { ...base, headers: { 'X-A': 'v\nBcc: x@y.example' } }, 'header_injection', 'headers.X-A', 'ignored', /in its value/],
    ['CR in header name', { ...base, headers: { 'X-A\r\nBcc': 'v' } }, 'header_injection', 'headers.X-A\r\nBcc', 'ignored', /in its name/],
    ['colon in header name', { ...base, headers: { 'X:A': 'v' } }, 'invalid_field', 'headers.X:A', 'ignored', /not a valid RFC 5322 field name/],
    ['invalid recipient', { ...base, to: 'not-an-address' }, 'invalid_address', 'to', 'hard', /local@domain/],
    ['unqualified recipient domain', { ...base, to: 'a@localhost' }, 'invalid_address', 'to', 'hard', /not fully qualified/],
    ['invalid sender', { ...base, from: 'Brand <nope>' }, 'invalid_address', 'from', 'ignored', /sender "from"/],
    ['raw and structured', { ...base, raw: 'From: a@b.c\r\n\r\nx' }, 'unknown_content_shape', undefined, 'ignored', /ambiguous/],
    ['no content', { messageId: 'm', deliveryId: 'd', from: 'a@b.example', to: 'c@d.example' }, 'unknown_content_shape', undefined, 'ignored', /no content/],
    ['subject only', { messageId: 'm', deliveryId: 'd', from: 'a@b.example', to: 'c@d.example', subject: 's' }, 'unknown_content_shape', undefined, 'ignored', /text.*html/],
    ['raw without headers', { messageId: 'm', deliveryId: 'd', from: 'a@b.example', to: 'c@d.example', raw: 'just a body' }, 'unknown_content_shape', 'raw', 'ignored', /RFC 5322/],
    ['oversized', { ...base, text: 'x'.repeat(3000) }, 'oversized', undefined, 'ignored', /over the limit of 2000/],
    ['validity not a date', { ...base, validUntil: 'tomorrow' }, 'invalid_field', 'validUntil', 'ignored', /ISO 8601/],
    ['validity already past', { ...base, validUntil: '2026-11-28T00:00:00Z' }, 'validity_expired', 'validUntil', 'ignored', /already past/],
  ];
  for (const [name, body, code, field, type, message] of rows) {
    const r = check(body);
    assert.equal(r.ok, false, name);
    if (r.ok) continue;
    assert.equal(r.rejection.code, code, name);
    assert.equal(r.rejection.field, field, name);
    assert.equal(r.rejection.failure.type, type, name);
    assert.match(r.rejection.message, message, name);
  }
});

test('what can be read of a bad request is kept for Campaign', () => {
  const r = check({ ...base, subject: 'a\nb' });
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.rejection.messageId, 'm1');
  assert.equal(r.rejection.deliveryId, 'd1');
  assert.equal(r.rejection.recipient, 'Alice@Example.TEST');
  const r2 = check('{oops');
  assert.equal(r2.ok, false);
  if (!r2.ok) assert.equal(r2.rejection.messageId, undefined);
});

test('validity is capped at 3.5 days after arrival', () => {
  const rows: [string | undefined, string, boolean][] = [
    [undefined, '2026-12-02T22:00:00.000Z', false],
    ['2026-11-30T10:00:00Z', '2026-11-30T10:00:00.000Z', false],
    ['2026-12-31T00:00:00Z', '2026-12-02T22:00:00.000Z', true],
    ['2026-11-29T12:00:00+02:00', '2026-11-29T10:00:00.000Z', false],
  ];
  for (const [requested, expected, capped] of rows) {
    const v = effectiveValidity(requested, now, 84 * 3600_000);
    if (requested === '2026-11-29T12:00:00+02:00') {
      assert.equal(v.ok, false, 'exactly now is already past');
      continue;
    }
    assert.ok(v.ok, String(requested));
    assert.equal(v.validUntil.toISOString(), expected);
    assert.equal(v.capped, capped);
  }
});

test('the validity cap is configurable (MTA_VALIDITY_CAP_HOURS, at most 84 h) and applies to every request', () => {
  const cap = (env: Record<string, string>) => loadConfig(ingestKeys, { KAFKA_BROKERS: '127.0.0.1:9092', ...env });
  const two = cap({ MTA_VALIDITY_CAP_HOURS: '2' });
  assert.ok(two.ok);
  assert.equal(two.config.validityCapHours, 2);
  const d = cap({});
  assert.ok(d.ok);
  assert.equal(d.config.validityCapHours, 84, 'default: 3.5 days');
  const over = cap({ MTA_VALIDITY_CAP_HOURS: '100' });
  assert.equal(over.ok, false, 'never more than 3.5 days');
  const r = validateRequest(Buffer.from(JSON.stringify({ ...base, validUntil: '2026-11-30T10:00:00Z' })), { ...opts, validityCapMs: two.config.validityCapHours * 3600_000 }, now);
  assert.ok(r.ok);
  assert.equal(r.message.validUntil, '2026-11-29T12:00:00.000Z', 'cut to arrival + 2 h');
  const none = validateRequest(Buffer.from(JSON.stringify(base)), { ...opts, validityCapMs: 2 * 3600_000 }, now);
  assert.ok(none.ok);
  assert.equal(none.message.validUntil, '2026-11-29T12:00:00.000Z', 'no validUntil: the cap');
});
