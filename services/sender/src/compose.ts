import type { Delivery } from '@mta/contracts';
import type { SendMailOptions } from 'nodemailer';

/**
 * What nodemailer is handed for one delivery.
 *
 * - Raw content is sent byte for byte: only the envelope (MAIL FROM / RCPT TO) is given, the
 *   message keeps its own headers (nodemailer adds nothing to a `raw` message).
 * - Structured content is composed into MIME by nodemailer: From (the header From Campaign
 *   gave), To, Subject, text and/or html, extra headers, and a Message-ID derived from the
 *   delivery's messageId (unless the headers carry one) so asynchronous bounces can be matched.
 *
 * Header injection (CR/LF in header values, forbidden names) was rejected upstream by ingest,
 * so values are passed as they are; nodemailer folds and encodes them.
 */
export type Composed = SendMailOptions;

export interface ComposeOptions {
  /** Domain of generated Message-IDs when the envelope sender has none (null sender). */
  idDomain: string;
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

export function compose(d: Delivery, opts: ComposeOptions): Composed {
  const envelope = { from: d.mailFrom, to: [d.to] };
  const c = d.content;
  if (c.kind === 'raw') return { envelope, raw: c.raw };
  const out: Composed = { envelope, from: d.from, to: d.to, subject: c.subject };
  if (c.text !== undefined) out.text = c.text;
  if (c.html !== undefined) out.html = c.html;
  if (c.headers !== undefined) out.headers = c.headers;
  if (!hasHeader(c.headers, 'message-id')) out.messageId = messageIdHeader(d.messageId, d.mailFrom, opts.idDomain);
  return out;
}
