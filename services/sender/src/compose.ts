import { createHash } from 'node:crypto';
import { verpEncode, type Delivery } from '@mta/contracts';
import type { SendMailOptions } from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import { templatedHeaders } from './header-template.ts';
import { TtlCache } from './ttl-cache.ts';

/**
 * What nodemailer is handed for one delivery.
 *
 * - Raw content is sent byte for byte apart from one trace header put on top (and the DKIM
 *   signatures the sender adds later): the message keeps its own headers.
 * - Structured content is composed into MIME by nodemailer's MailComposer: From (the header
 *   From Campaign gave), To, Subject, text and/or html, extra headers, Date, MIME-Version, the
 *   trace header and a Message-ID derived from the delivery's messageId (unless the headers
 *   carry one).
 *
 * Header injection (CR/LF in header values, forbidden names) was rejected upstream by ingest,
 * so values are passed as they are; nodemailer folds and encodes them.
 */
export type Composed = SendMailOptions & { envelope: { from: string; to: string[] } };

/** Trace header naming the messageId, so a copy of the message found anywhere leads back to it. */
export const TRACE_HEADER = 'X-MTA-Message-Id';

export interface ComposeOptions {
  /** Domain of generated Message-IDs when the envelope sender has none (null sender). */
  idDomain: string;
  /** MTA_BOUNCE_DOMAIN: when set, the envelope sender is the VERP address of the messageId there. */
  bounceDomain?: string | undefined;
}

const hasHeader = (headers: Record<string, string> | undefined, name: string): boolean =>
  headers !== undefined && Object.keys(headers).some((k) => k.toLowerCase() === name);

/** `<id@domain>` for a messageId, kept as it is when it is already one. */
export function messageIdHeader(messageId: string, mailFrom: string, idDomain: string): string {
  if (/^<[^<>@\s]+@[^<>@\s]+>$/.test(messageId)) return messageId;
  const at = mailFrom.lastIndexOf('@');
  const domain = at >= 0 && at < mailFrom.length - 1 ? mailFrom.slice(at + 1) : idDomain;
  return `<${messageId.replace(/[<>@\s]/g, '')}@${domain}>`;
}

/**
 * MAIL FROM: the VERP address encoding the messageId on the bounce domain when one is
 * configured, else the request's mailFrom. A null sender (`<>`, DSNs) stays null either way.
 */
export function envelopeSender(d: Pick<Delivery, 'messageId' | 'mailFrom'>, bounceDomain: string | undefined): string {
  if (d.mailFrom === '' || !bounceDomain) return d.mailFrom;
  return verpEncode(d.messageId, bounceDomain);
}

/** A messageId as a header value (control characters cannot appear in a header). */
const traceValue = (messageId: string): string => messageId.replace(/[\x00-\x1f\x7f]/g, '');

/** The raw message with the trace header on top, using the message's own line ending. */
export function withTraceHeader(raw: string, messageId: string): string {
  const eol = /\r\n/.test(raw.slice(0, 4096)) || !raw.includes('\n') ? '\r\n' : '\n';
  return `${TRACE_HEADER}: ${traceValue(messageId)}${eol}${raw}`;
}

export function compose(d: Delivery, opts: ComposeOptions): Composed {
  const envelope = { from: envelopeSender(d, opts.bounceDomain), to: [d.to] };
  const c = d.content;
  if (c.kind === 'raw') return { envelope, raw: withTraceHeader(c.raw, d.messageId) };
  const out: Composed = { envelope, from: d.from, to: d.to, subject: c.subject };
  if (c.text !== undefined) out.text = c.text;
  if (c.html !== undefined) out.html = c.html;
  out.headers = { ...(c.headers ?? {}), [TRACE_HEADER]: traceValue(d.messageId) };
  if (!hasHeader(c.headers, 'message-id')) out.messageId = messageIdHeader(d.messageId, d.mailFrom, opts.idDomain);
  return out;
}

/**
 * Encoded MIME bodies (everything after the root header block) by content: a campaign sends one
 * content to many recipients, and MailComposer's body path (a PassThrough, a pipeline, the QP or
 * base64 encoder stream per part) costs about 1.1 ms of CPU for a 5 KB text, four times what the
 * header block of the same message costs.
 */
const bodies = new TtlCache<Buffer>(64); // entries never expire; 64 contents at most
/** Bodies larger than this are not kept. */
const MAX_CACHED_BODY_BYTES = 1 << 20;
let hits = 0;

/** Messages whose body came from the cache so far (tests, benchmarks). */
export const bodyCacheHits = (): number => hits;

/**
 * What decides the body MailComposer writes: text and html (and which of them there is). Messages
 * whose own headers say something about the content (`Content-*`, `MIME-Version`) are not cached.
 */
function bodyKey(mail: Omit<Composed, 'envelope'>): string | undefined {
  if (mail.headers && Object.keys(mail.headers).some((k) => /^(content-|mime-version$)/i.test(k))) return undefined;
  if (typeof (mail.text ?? '') !== 'string' || typeof (mail.html ?? '') !== 'string') return undefined;
  // Consecutive messages mostly share their content: comparing strings is cheaper than hashing them.
  const text = (mail.text ?? null) as string | null;
  const html = (mail.html ?? null) as string | null;
  if (lastKey && lastKey.text === text && lastKey.html === html) return lastKey.key;
  const key = createHash('sha256').update(JSON.stringify([text, html])).digest('hex');
  lastKey = { text, html, key };
  return key;
}
let lastKey: { text: string | null; html: string | null; key: string } | undefined;

const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * The message's bytes as they go on the wire (before DKIM signatures).
 *
 * Structured content goes through MailComposer: `compile()` builds the MIME tree; the root's
 * header block (`buildHeaders()`: From, To, Subject, Date, Message-ID, MIME-Version, Content-Type,
 * Content-Transfer-Encoding...) is written for every message, and the body after it is encoded
 * once per distinct content and then reused. The multipart boundary is derived from the content
 * (MailComposer's `baseBoundary`), so a reused body matches the Content-Type of the header
 * block; the bytes are the ones a full `build()` of the same message gives (tested).
 */
export async function messageBytes(c: Composed): Promise<Buffer> {
  if (typeof c.raw === 'string') return Buffer.from(c.raw, 'utf8');
  if (Buffer.isBuffer(c.raw)) return c.raw;
  const { envelope: _e, ...mail } = c;
  const key = bodyKey(mail);
  let cached = key ? bodies.get(key, 0) : undefined;
  const pending = key && !cached ? building.get(key) : undefined;
  if (pending) {
    // The same content is being built for another message: wait for its body rather than build it again.
    await pending;
    cached = bodies.get(key!, 0);
  }
  if (key && cached) {
    // The header block from a template when nodemailer would write it verbatim (header-template.ts).
    const head = templatedHeaders(mail, key);
    if (head !== undefined) {
      hits++;
      return Buffer.concat([Buffer.from(head + '\r\n\r\n', 'utf8'), cached]);
    }
  }
  const root = new MailComposer({
    ...mail,
    ...(key ? { baseBoundary: key.slice(0, 24) } : {}),
    disableFileAccess: true,
    disableUrlAccess: true,
  }).compile();
  if (cached) {
    hits++;
    return Buffer.concat([Buffer.from(root.buildHeaders() + '\r\n\r\n', 'utf8'), cached]);
  }
  let built: (() => void) | undefined;
  if (key && !building.has(key)) building.set(key, new Promise<void>((r) => (built = r)));
  try {
    const full = await root.build();
    const end = full.indexOf(HEADER_END);
    if (key && end >= 0 && full.length - end - 4 <= MAX_CACHED_BODY_BYTES) bodies.set(key, Buffer.from(full.subarray(end + 4)), Infinity);
    return full;
  } finally {
    if (built) {
      building.delete(key!);
      built();
    }
  }
}

/**
 * Bodies being built, by content: a burst of messages with a new content (a stage dispatches
 * hundreds at once) builds it once instead of once per message.
 */
const building = new Map<string, Promise<void>>();
