import { parseDeliveryStatus, addressOf } from './dsn.ts';
import { header, parseHeaders, parseMime, splitHeaderBody, walk, type MimePart } from './mime.ts';
import type { BounceRecipient, BounceReport, OriginalMessage } from './report.ts';
import { addressesIn, humanText, textRecipients } from './text.ts';
import { vendorRecipients } from './vendors.ts';

/** Trace header the sender adds to every message (Campaign's messageId), read back from returned headers. */
export const TRACE_HEADER = 'x-mta-message-id';

/**
 * Reads one inbound message at the bounce address and says what it is: a delivery status
 * notification (RFC 3464 or a vendor's text format), a feedback-loop report (RFC 5965), an
 * auto-reply (RFC 3834), or a normal message. Pure and total: any bytes give a report.
 */
export function parseBounce(raw: Buffer | string): BounceReport {
  const root = parseMime(raw);
  const parts = walk(root);
  const subject = header(root, 'subject') ?? '';
  const from = header(root, 'from') ?? '';
  const base = { subject, from, original: originalOf(root, parts) };

  // 1. ARF feedback-loop report.
  const fbr = parts.find((p) => p.contentType === 'message/feedback-report');
  if (fbr) return feedbackReport(root, fbr, base);

  const bounceOwn = new Set([...addressesOfHeader(header(root, 'to')), ...addressesOfHeader(from)]);
  const exclude = bounceOwn;
  const human = humanParts(root).map((p) => humanText(p.text)).join('\n');

  // 2. RFC 3464 delivery-status part(s).
  const dsParts = parts.filter((p) => p.contentType === 'message/delivery-status' || p.contentType === 'message/global-delivery-status');
  const fromDsn = dsParts.flatMap((p) => parseDeliveryStatus(p.text));
  if (fromDsn.length > 0) {
    const textual = textRecipients(human, exclude);
    for (const r of fromDsn) {
      const t = textual.find((x) => x.recipient === r.recipient) ?? (fromDsn.length === 1 && textual.length === 1 ? textual[0] : undefined);
      if (t && t.diagnostic && !r.diagnostic.includes(t.diagnostic)) r.context = t.diagnostic;
      if (!r.diagnostic && !t) r.context = human.trim();
    }
    return { kind: 'dsn', format: 'rfc3464', recipients: fromDsn.map((r) => enrich(r, human)), ...base };
  }

  // 3. Vendor formats with structure of their own (Amazon SES JSON ...).
  const vendor = vendorRecipients(root, parts);
  if (vendor?.kind === 'feedback') return { kind: 'feedback', format: vendor.format, feedback: { type: vendor.feedbackType ?? 'abuse' }, recipients: vendor.recipients, ...base };
  if (vendor) return { kind: 'dsn', format: vendor.format, recipients: vendor.recipients.map((r) => enrich(r, human)), ...base };

  // Microsoft's JMRP complaints: the reported message attached, its original recipient in a header.
  const jmrp = parts.map((p) => (p.contentType === 'message/rfc822' && p.parts[0] ? header(p.parts[0], 'x-hmxmroriginalrecipient') : undefined)).find(Boolean);
  if (jmrp) return { kind: 'feedback', format: 'microsoft-jmrp', feedback: { type: 'abuse' }, recipients: [{ recipient: addressOf(jmrp), action: 'delivered', diagnostic: 'feedback-type: abuse' }], ...base };

  // 4. Auto-replies (RFC 3834): checked after the report types, because bounces carry Auto-Submitted too.
  const auto = autoReply(root, subject, from);
  if (auto) {
    const sender = addressesOfHeader(from)[0];
    return {
      kind: 'auto-reply',
      format: 'rfc3834',
      note: auto,
      recipients: sender ? [{ recipient: sender, action: 'delivered', diagnostic: human.trim().slice(0, 2000) }] : [],
      ...base,
    };
  }

  // 5. Text bounces.
  if (looksLikeBounce(root, subject, from, human)) {
    const xFailed = addressesOfHeader(header(root, 'x-failed-recipients'));
    let recipients = textRecipients(human, exclude);
    if (recipients.length === 0) {
      const found = xFailed.length ? xFailed : addressesIn(human, exclude);
      const fallback = found.length ? found : addressesOfHeader(base.original.to);
      recipients = fallback.slice(0, 50).map((recipient) => ({ recipient, action: 'failed' as const, diagnostic: human.trim() }));
    }
    const delayed = /\b(?:delayed|delay|warning|still being retried|not yet been delivered|will (?:continue|keep) (?:to )?try)/i.test(subject) && !/permanent|fatal|failed/i.test(subject);
    for (const r of recipients) if (delayed) r.action = 'delayed';
    return { kind: 'text', format: textFormat(root, human), recipients: recipients.map((r) => enrich(r, human)), ...base };
  }

  return { kind: 'not-bounce', format: 'none', note: 'no delivery report, feedback report or auto-reply found', recipients: [], ...base };
}

/** Fills replyCode, status and command from the diagnostic text (and the session transcript in `human`). */
function enrich(r: BounceRecipient, human: string): BounceRecipient {
  const all = `${r.diagnostic}\n${r.context ?? ''}`;
  const code = findReplyCode(r.diagnostic) ?? findReplyCode(r.context ?? '');
  if (code !== undefined) r.replyCode = code;
  if (!r.status) {
    const s = findEnhanced(all);
    if (s) r.status = s;
  }
  const command = transcriptCommand(human, r.recipient, r.status) ?? findCommand(all);
  if (command) r.command = command;
  if (r.context && !r.diagnostic) {
    r.diagnostic = r.context;
    delete r.context;
  }
  if (!r.remoteMta) {
    const host = /\bhost\s+([A-Za-z0-9.-]+\.[A-Za-z]{2,})\s*\[/.exec(all)?.[1] ?? /remote host ([\d.]+) said/.exec(all)?.[1];
    if (host) r.remoteMta = host;
  }
  return r;
}

/** First SMTP reply code in a text (`550 `, `550-`, `said: 550`), skipping numbers inside IPs and dates. */
export function findReplyCode(text: string): number | undefined {
  const m = /(?:^|[\s:;("'[])([245]\d\d)(?=[ -][^\d:]|[ -]\d\.\d|,|$)/m.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n >= 400 ? n : undefined;
}

/** First RFC 3463 status in a text, not part of an IP address or version number. */
export function findEnhanced(text: string): string | undefined {
  return /(?<![\d.])([245]\.\d{1,3}\.\d{1,3})(?![.\d])/.exec(text)?.[1];
}

/**
 * Sendmail-style session transcripts (`>>> DATA` / `<<< 550 ...`): the command that drew the
 * recipient's error reply (the last `>>>` line before the `<<<` line naming the recipient, or
 * before the first error reply).
 */
export function transcriptCommand(text: string, recipient: string, status?: string): string | undefined {
  const lines = text.split(/\r?\n/);
  const replies = lines.map((l, i) => ({ l, i })).filter(({ l }) => /^\s*<<<\s*[45]\d\d/.test(l));
  if (replies.length === 0) return undefined;
  // The reply that names the recipient, or the one just before the MTA's own line naming it.
  const rcpt = recipient.toLowerCase();
  const own =
    replies.find(({ l }) => l.toLowerCase().includes(rcpt)) ??
    replies.find(({ i }) => (lines[i + 1] ?? '').toLowerCase().includes(rcpt) && !(lines[i + 1] ?? '').startsWith('<<<')) ??
    (replies.length === 1 && !/\n\s*[45]\d\d <[^>]+>\.\.\./.test(text) ? replies[0] : undefined);
  if (!own) return undefined;
  // With PIPELINING the RCPT replies are read after `>>> DATA` is written: a reply that names the
  // mailbox as bad (5.1.1) answered RCPT TO whatever line precedes it.
  // Likewise when the server's answer to DATA is "no valid recipients", and when the MTA's own
  // line after the reply (Sendmail: `550 5.1.1 <a@b>... User unknown`) calls it a bad mailbox.
  const after = lines[own.i + 1] ?? '';
  if (/\b[45]\.1\.1\b/.test(own.l) || status?.endsWith('.1.1') || (!after.startsWith('<<<') && /\b[45]\.1\.1\b/.test(after))) return 'RCPT TO';
  if (replies.some(({ l }) => /no valid recipients/i.test(l))) return 'RCPT TO';
  for (let i = own.i - 1; i >= 0; i--) {
    const m = /^\s*>>>\s*(RCPT TO|MAIL FROM|DATA|EHLO|HELO|\.)/i.exec(lines[i]!);
    if (m) return m[1] === '.' ? 'DATA' : m[1]!.toUpperCase();
  }
  return undefined;
}

/** SMTP phase named by the report (`in reply to RCPT TO command`, Exim's `after RCPT TO`, qmail's `RCPT TO response`). */
export function findCommand(text: string): string | undefined {
  const m =
    /\bin reply to (RCPT TO|MAIL FROM|end of DATA|DATA|HELO|EHLO|LHLO|STARTTLS|AUTH|BDAT)\b/i.exec(text) ??
    /\b(?:after|error after|while sending|in response to|on) (RCPT TO|MAIL FROM|end of data|DATA|HELO|EHLO|initial connection|connection)\b/i.exec(text) ??
    /\b(RCPT TO|MAIL FROM|DATA|EHLO|HELO) response\b/i.exec(text) ??
    /\bin (RCPT|MAIL|DATA) phase\b/i.exec(text) ??
    /\bSMTP command:?\s*(RCPT TO|MAIL FROM|DATA)\b/i.exec(text);
  if (!m) return undefined;
  const c = m[1]!.toUpperCase();
  if (c === 'END OF DATA') return 'DATA';
  if (c === 'RCPT') return 'RCPT TO';
  if (c === 'MAIL') return 'MAIL FROM';
  if (c === 'INITIAL CONNECTION' || c === 'CONNECTION') return 'CONN';
  return c;
}

function feedbackReport(root: MimePart, fbr: MimePart, base: Pick<BounceReport, 'subject' | 'from' | 'original'>): BounceReport {
  const fields = parseHeaders(fbr.text);
  const get = (n: string) => fields.filter((f) => f.name === n).map((f) => f.value);
  const rcpts = [...get('original-rcpt-to'), ...get('removal-recipient')].map(addressOf).filter((a) => a.includes('@'));
  const recipients = rcpts.length ? [...new Set(rcpts)] : addressesOfHeader(base.original.to);
  const type = (get('feedback-type')[0] ?? 'other').toLowerCase();
  const feedback: BounceReport['feedback'] = { type };
  const ua = get('user-agent')[0];
  if (ua) feedback.userAgent = ua;
  const ip = get('source-ip')[0];
  if (ip) feedback.sourceIp = ip;
  void root;
  return {
    kind: 'feedback',
    format: 'arf',
    feedback,
    recipients: recipients.map((recipient) => ({ recipient, action: 'delivered', diagnostic: `feedback-type: ${type}` })),
    ...base,
  };
}

/** Why a message is an auto-reply (RFC 3834 and common vendor headers), or undefined. */
function autoReply(root: MimePart, subject: string, from: string): string | undefined {
  const h = (n: string) => header(root, n)?.toLowerCase();
  if (isDaemon(from)) return undefined;
  const submitted = h('auto-submitted');
  if (submitted && submitted !== 'no') return `Auto-Submitted: ${submitted}`;
  for (const n of ['x-autoreply', 'x-autorespond', 'x-autoresponder', 'x-apple-action']) if (h(n) !== undefined) return `${n}: ${h(n)}`;
  const precedence = h('precedence');
  if (precedence === 'auto_reply') return 'Precedence: auto_reply';
  if (h('x-auto-response-suppress') !== undefined && /^(?:auto(?:matic)?[ -]?reply|out of (?:the )?office|autoreply)\b/i.test(subject)) return `Subject: ${subject}`;
  if (/^(?:auto(?:matic)?[ -]?(?:reply|response)|out of (?:the )?office|vacation|away from (?:my|the) office|abwesenheitsnotiz|r[ée]ponse automatique)\b/i.test(subject)) return `Subject: ${subject}`;
  return undefined;
}

const DAEMON = /\b(?:mailer-daemon|mail-daemon|postmaster|mail delivery (?:system|subsystem)|mdaemon|bounce|nobody)\b/i;
function isDaemon(from: string): boolean {
  return DAEMON.test(from) || /<>/.test(from);
}

const BOUNCE_SUBJECT =
  /undeliver|undelivered|delivery (?:status|failure|failed|notification|has failed|problem)|returned mail|failure notice|mail (?:delivery )?(?:failed|failure|error|system error)|could not (?:be )?deliver|non[- ]?delivery|delivery report|nondeliverable|returned to sender|unzustellbar|no se puede entregar|non recapitabile|rejected|bounce|warning|delayed|permanent error|message not delivered|error sending/i;

function isBounceMessage(m: MimePart): boolean {
  const ct = (header(m, 'content-type') ?? '').toLowerCase();
  return isDaemon(header(m, 'from') ?? '') || BOUNCE_SUBJECT.test(header(m, 'subject') ?? '') || ct.includes('report-type=delivery-status');
}

function looksLikeBounce(root: MimePart, subject: string, from: string, human: string): boolean {
  if (header(root, 'x-failed-recipients')) return true;
  if (isDaemon(from) || BOUNCE_SUBJECT.test(subject)) return true;
  if ((header(root, 'content-type') ?? '').toLowerCase().includes('report-type=delivery-status')) return true;
  return /\b(?:could not be delivered|was not delivered|delivery (?:to the following recipients? )?(?:has )?failed|permanent (?:fatal )?error|undeliverable|failed permanently|unable to deliver|not be delivered)\b/i.test(human);
}

/** A label for the text format (for reports and the benchmark's "per format" view). */
function textFormat(root: MimePart, human: string): string {
  if (/qmail-send program|\(#[45]\.\d\.\d+\)/.test(human)) return 'qmail';
  if (/This message was created automatically by mail delivery software|X-Failed-Recipients/i.test(human) || header(root, 'x-failed-recipients')) return 'exim';
  if (/Transcript of session follows/i.test(human)) return 'sendmail';
  if (/did not reach the following recipient|Delivery has failed to these recipients/i.test(human)) return 'exchange';
  if (/Google tried to deliver your message|gsmtp/i.test(human)) return 'gmail';
  return 'text';
}

/** Text parts outside the returned message (which is quoted, not explained). */
function humanParts(root: MimePart): MimePart[] {
  const out: MimePart[] = [];
  const visit = (p: MimePart) => {
    // A gateway that forwards a bounce as an attachment (Trend Micro, ...): read the bounce inside.
    if (p.contentType === 'message/rfc822' && p.parts[0] && isBounceMessage(p.parts[0])) {
      visit(p.parts[0]);
      return;
    }
    if (p.contentType === 'message/rfc822' || p.contentType === 'text/rfc822-headers' || p.contentType === 'message/delivery-status') return;
    if (p.parts.length) {
      p.parts.forEach(visit);
      return;
    }
    if (p.contentType === 'text/plain' || p.contentType === 'text/html' || p.contentType === 'message/global' || p === root) {
      out.push(p.contentType === 'text/html' ? { ...p, text: htmlToText(p.text) } : p);
    }
  };
  visit(root);
  // Prefer plain text when a multipart/alternative also has HTML.
  const plain = out.filter((p) => p.contentType !== 'text/html');
  return plain.length ? plain : out;
}

function htmlToText(html: string): string {
  return html
    .replace(/<(?:script|style)[\s\S]*?<\/(?:script|style)>/gi, ' ')
    .replace(/<br\s*\/?>|<\/(?:p|div|tr|li|h\d)>/gi, '\n')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

/** Headers of the returned original: a message/rfc822 or text/rfc822-headers part, or a header block quoted in the text. */
function originalOf(root: MimePart, parts: MimePart[]): OriginalMessage {
  const out: OriginalMessage = {};
  const headers = originalHeaderBlocks(root, parts);
  for (const hs of headers) {
    const get = (n: string) => hs.find((h) => h.name === n)?.value;
    out.messageId ??= get('message-id')?.replace(/^<|>$/g, '').trim();
    out.mtaMessageId ??= get(TRACE_HEADER)?.trim();
    out.to ??= get('to');
  }
  for (const k of Object.keys(out) as (keyof OriginalMessage)[]) if (!out[k]) delete out[k];
  return out;
}

function originalHeaderBlocks(root: MimePart, parts: MimePart[]) {
  const blocks = [];
  for (const p of parts) {
    if (p === root) continue;
    if (p.contentType === 'text/rfc822-headers') blocks.push(parseHeaders(splitHeaderBody(p.text + '\n\n').head));
    if (p.contentType === 'message/rfc822' || p.contentType === 'message/global') {
      const inner = p.parts[0];
      if (inner) blocks.push(inner.headers);
    }
  }
  // Text bounces quote the original below a marker: read the first header block after it.
  for (const p of humanParts(root)) {
    const m = /^(?:Return-Path|Received|Message-I[Dd]|From|To|Subject|Date|DKIM-Signature|X-[\w-]+):[ \t]/m.exec(p.text.slice(humanText(p.text).length));
    if (m) {
      const tail = p.text.slice(humanText(p.text).length + m.index);
      blocks.push(parseHeaders(splitHeaderBody(tail).head));
    }
  }
  return blocks;
}

export function addressesOfHeader(value: string | undefined): string[] {
  if (!value) return [];
  return [...value.matchAll(/[^\s<>"',;:()[\]]+@[^\s<>"',;:()[\]]+/g)].map((m) => addressOf(m[0]));
}
