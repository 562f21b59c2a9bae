import {
  SendRequestCodec,
  failure,
  type Content,
  type DeadLetterCode,
  type Failure,
  type QueuedMessage,
  type SendRequest,
} from '@mta/contracts';
import { hasLineBreak, isHeaderName, parseAddress, parseMailbox } from './address.ts';
import { effectiveValidity } from './validity.ts';

export interface ValidationOptions {
  maxMessageBytes: number;
  validityCapMs: number;
}

export interface Rejection {
  code: DeadLetterCode;
  message: string;
  field?: string;
  /** What could still be read, so Campaign can be told (`failed`, `event: rejected`). */
  messageId?: string;
  deliveryId?: string;
  tenant?: string;
  recipient?: string;
  failure: Failure;
}

export type Validation = { ok: true; message: QueuedMessage; capped: boolean } | { ok: false; rejection: Rejection };

const STRUCTURED = ['subject', 'text', 'html', 'headers'] as const;

/**
 * Decides whether a send request is accepted, from its bytes alone (pure; `now` injected).
 * Every rejection has its own code and a message naming the field.
 */
export function validateRequest(bytes: Buffer, opts: ValidationOptions, now: Date): Validation {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    return reject({}, 'malformed_json', `request is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return reject({}, 'malformed_json', `request must be a JSON object, got ${Array.isArray(parsed) ? 'an array' : typeof parsed}`);
  }
  const obj = parsed as Record<string, unknown>;
  const known = readable(obj);
  if (bytes.length > opts.maxMessageBytes) {
    return reject(known, 'oversized', `request is ${bytes.length} bytes, over the limit of ${opts.maxMessageBytes} (MTA_MAX_MESSAGE_BYTES)`);
  }
  for (const field of ['messageId', 'deliveryId', 'from', 'to'] as const) {
    if (obj[field] === undefined || obj[field] === null || obj[field] === '') {
      return reject(known, 'missing_field', `required field "${field}" is missing`, field);
    }
  }
  const checked = SendRequestCodec.validate(obj);
  if (!checked.ok) {
    const field = checked.error.path?.replace(/^\//, '') || undefined;
    return reject(known, 'invalid_field', `invalid field: ${checked.error.message}`, field);
  }
  const req = checked.value;

  for (const field of ['messageId', 'deliveryId', 'from', 'to', 'subject'] as const) {
    const v = req[field];
    if (v !== undefined && hasLineBreak(v)) return reject(known, 'header_injection', `field "${field}" contains CR or LF`, field);
  }
  const to = parseAddress(req.to);
  if (!to.ok) return reject(known, 'invalid_address', `recipient "to": ${to.message}`, 'to');
  const from = parseMailbox(req.from);
  if (!from.ok) return reject(known, 'invalid_address', `sender "from": ${from.message}`, 'from');

  const content = contentOf(req);
  if (!content.ok) return reject(known, content.code, content.message, content.field);

  const validity = effectiveValidity(req.validUntil, now, opts.validityCapMs);
  if (!validity.ok) return reject(known, validity.code, validity.message, 'validUntil');

  const message: QueuedMessage = {
    v: 1,
    messageId: req.messageId,
    deliveryId: req.deliveryId,
    ...(req.tenant ? { tenant: req.tenant } : {}),
    ...(req.ipPool ? { ipPool: req.ipPool } : {}),
    from: req.from,
    mailFrom: from.address,
    to: to.address,
    recipientDomain: to.domain,
    content: content.content,
    acceptedAt: now.toISOString(),
    validUntil: validity.validUntil.toISOString(),
    attempt: 1,
  };
  return { ok: true, message, capped: validity.capped };
}

type ContentResult = { ok: true; content: Content } | { ok: false; code: DeadLetterCode; message: string; field?: string };

function contentOf(req: SendRequest): ContentResult {
  const structured = STRUCTURED.filter((k) => req[k] !== undefined);
  if (req.raw !== undefined) {
    if (structured.length) {
      return { ok: false, code: 'unknown_content_shape', message: `content is ambiguous: "raw" together with ${structured.map((k) => `"${k}"`).join(', ')}; give either raw or subject + text/html` };
    }
    const headerEnd = req.raw.search(/\r?\n\r?\n/);
    const head = headerEnd < 0 ? req.raw : req.raw.slice(0, headerEnd);
    if (headerEnd < 0 || !/^[\x21-\x39\x3b-\x7e]+:/.test(head)) {
      return { ok: false, code: 'unknown_content_shape', message: 'field "raw" is not an RFC 5322 message: it needs a header section, then an empty line, then the body', field: 'raw' };
    }
    return { ok: true, content: { kind: 'raw', raw: req.raw } };
  }
  if (req.subject === undefined) {
    return { ok: false, code: 'unknown_content_shape', message: 'no content: give either "raw" or "subject" with "text" and/or "html"' };
  }
  if (req.text === undefined && req.html === undefined) {
    return { ok: false, code: 'unknown_content_shape', message: 'structured content needs "text" and/or "html" besides "subject"' };
  }
  for (const [name, value] of Object.entries(req.headers ?? {})) {
    if (hasLineBreak(name) || hasLineBreak(value)) {
      return { ok: false, code: 'header_injection', message: `header ${JSON.stringify(name)} contains CR or LF in its ${hasLineBreak(name) ? 'name' : 'value'}`, field: `headers.${name}` };
    }
    if (!isHeaderName(name)) return { ok: false, code: 'invalid_field', message: `header name ${JSON.stringify(name)} is not a valid RFC 5322 field name`, field: `headers.${name}` };
  }
  return {
    ok: true,
    content: {
      kind: 'structured',
      subject: req.subject,
      ...(req.text !== undefined ? { text: req.text } : {}),
      ...(req.html !== undefined ? { html: req.html } : {}),
      ...(req.headers ? { headers: req.headers } : {}),
    },
  };
}

/** The identifying fields that can be read even from an invalid request. */
function readable(obj: Record<string, unknown>): Partial<Rejection> {
  const s = (v: unknown) => (typeof v === 'string' && v !== '' && v.length <= 998 && !hasLineBreak(v) ? v : undefined);
  const out: Partial<Rejection> = {};
  const messageId = s(obj.messageId);
  const deliveryId = s(obj.deliveryId);
  const tenant = s(obj.tenant);
  const recipient = s(obj.to);
  if (messageId) out.messageId = messageId;
  if (deliveryId) out.deliveryId = deliveryId;
  if (tenant) out.tenant = tenant;
  if (recipient) out.recipient = recipient;
  return out;
}

/** Campaign's view of a rejection: only a bad recipient address is the address's fault. */
export function rejectionFailure(code: DeadLetterCode, field: string | undefined, message: string): Failure {
  if (field === 'to' && code === 'missing_field') return failure('hard', 7, 30, 'address-not-specified', message);
  if (field === 'to' && code === 'invalid_address') return failure('hard', 1, 10, 'invalid-address', message);
  // Not the recipient's fault: never quarantine the address for a malformed request.
  return failure('ignored', 25, 25, `rejected-${code.replace(/_/g, '-')}`, message);
}

function reject(known: Partial<Rejection>, code: DeadLetterCode, message: string, field?: string): Validation {
  return {
    ok: false,
    rejection: { ...known, code, message, ...(field ? { field } : {}), failure: rejectionFailure(code, field, message) },
  };
}
