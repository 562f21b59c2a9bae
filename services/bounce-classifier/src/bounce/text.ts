import { addressOf } from './dsn.ts';
import type { BounceRecipient } from './report.ts';

/**
 * Non-standard bounces (qmail, Exim, Sendmail transcripts, Exchange 2003, Gmail, Yahoo, Mail.ru,
 * ...) explain failures in prose. They share a shape: a preamble, then per failed recipient a line
 * that starts with the address, followed by the server's reply; then the returned message. This
 * finds those recipient lines and the text after each; it knows markers, not vendors.
 */

const ADDR = String.raw`[A-Za-z0-9!#$%&'*+/=?^_\`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+`;
export const ADDRESS = new RegExp(ADDR, 'g');

/** A line that begins with a recipient address: `<a@b>:`, `  a@b`, `a@b on <date>`, `"a@b" ...`, `Failed: a@b`, Postfix's transcript `In:  RCPT TO:<a@b>`. */
const RECIPIENT_LINE = new RegExp(
  String.raw`^\s*(?:(?:In:\s+)?(?:RCPT To|To|Recipient(?: address)?|Failed|Original-Recipient|Address)\s*:\s*|\*\s*|-\s+)?["'<]*(${ADDR})[>"']*\s*(?:$|:|\.\.\.|\s+on\s|\s*\(|\s+[-<]|,|\s+(?=\S))`,
  'i',
);

const HAS_CODE = /(?:^|\s)[45]\d\d[ -]|(?<![\d.])[45]\.\d{1,3}\.\d{1,3}(?![.\d])/m;

/** Sendmail's per-recipient summary in a transcript: `554 <a@b>... 550 Host unknown`. */
const SENDMAIL_LINE = new RegExp(String.raw`^\s*[45]\d\d <(${ADDR})>\.\.\.\s*(.*)$`);

/** Where the returned message (or its headers) starts in a text bounce: nothing after it is about the failure. */
const CUT_MARKERS = [
  /^-*\s*below this line is a copy of the message/i,
  /^-*\s*this is a copy of (?:the|your) message/i,
  /^-+\s*original message\s*-+/i,
  /^-*\s*(?:original|unsent|returned) message(?: follows)?\s*-*\s*$/i,
  /original message follows/i,
  /^-+\s*(?:the )?(?:header|headers) of (?:the )?original message/i,
  /^-+\s*(?:original|returned|unsent) (?:message )?headers?/i,
  /^-+\s*(?:a copy of |the )?(?:message|mail) (?:text|body)?\s*(?:follows|below)/i,
  /^\s*Content-Type: (?:message\/rfc822|text\/rfc822-headers)/i,
  /^(?:Return-Path|Received|DKIM-Signature|X-Received|ARC-Seal|Message-I[Dd]|MIME-Version):\s?\S/i,
];

/** Mailbox names that are never the failed recipient. */
const NOT_RECIPIENT = /^(?:postmaster|mailer-daemon|mail-daemon|mailer|root|abuse|noreply|no-reply|nobody)@/i;

/** The part of a text bounce before the returned message. */
export function humanText(text: string): string {
  const lines = text.split(/\r?\n/);
  const cut = lines.findIndex((l) => CUT_MARKERS.some((m) => m.test(l)));
  return (cut < 0 ? lines : lines.slice(0, cut)).join('\n');
}

/**
 * Recipients named in a text bounce, each with the text that follows its line up to the next
 * recipient line. `exclude` are addresses that are not recipients (the bounce's own From/To, the
 * original sender).
 */
export function textRecipients(text: string, exclude: ReadonlySet<string>): BounceRecipient[] {
  const lines = humanText(text).split(/\r?\n/);
  const hits: { index: number; address: string; rest: string; own?: boolean }[] = [];
  lines.forEach((line, index) => {
    const sm = SENDMAIL_LINE.exec(line);
    if (sm) {
      const address = addressOf(sm[1]!);
      if (!NOT_RECIPIENT.test(address)) hits.push({ index, address, rest: sm[2]!, own: true });
      return;
    }
    if (/^\s*(?:>>>|<<<|\d{3}[ -]|from:|reply-to:|sender:|return-path:|subject:|date:|cc:)/i.test(line)) return;
    const m = RECIPIENT_LINE.exec(line);
    if (!m) return;
    // `name@x <a@b>: ...` (a display part that looks like an address): the bracketed one is the address.
    const bracketed = new RegExp(String.raw`^\s*<(${ADDR})>`).exec(line.slice(m.index + m[0].length - 1));
    const address = addressOf(bracketed ? bracketed[1]! : m[1]!);
    // An address alone on its line (qmail's `<a@b>:`) is a recipient even if it is also the sender's.
    const alone = /^\s*<?[^\s<>]+>?:?\s*$/.test(line);
    if ((exclude.has(address) && !alone) || NOT_RECIPIENT.test(address)) return;
    hits.push({ index, address, rest: line.slice(m.index + m[0].length) });
  });

  const seen = new Map<string, BounceRecipient>();
  hits.forEach((hit, i) => {
    const end = hits[i + 1]?.index ?? lines.length;
    // A Sendmail summary line is complete in itself; the lines after it belong to the transcript.
    let block = hit.own ? hit.rest.trim() : [hit.rest, ...lines.slice(hit.index + 1, end)].join('\n').trim();
    // An address alone in a list ("failed to the following recipients: a, b"), the reason is after the list.
    if (!/[A-Za-z]{3}/.test(block.replace(ADDRESS, ''))) block = lines.slice(hits[hits.length - 1]!.index + 1).join('\n').trim();
    // Nothing after the list either ("The user(s) account is disabled.\n<a@b>"): the reason is the paragraph before it.
    if (!/[A-Za-z]{3}/.test(block.replace(ADDRESS, ''))) block = lines.slice(Math.max(0, hits[0]!.index - 5), hits[0]!.index).join('\n').trim();
    // "Could not be delivered because of: 550 5.1.1 User unknown. The following recipients were
    // affected: a@b": the reason is in the preamble, the list after it.
    // Without a code, the preamble may still say why ("Message could not be delivered to mobile.
    // Error: No valid recipients for this MM", then `To: a@b`): kept as context, read when the
    // block alone says nothing classifiable.
    let preambleContext: string | undefined;
    if (!hit.own && !HAS_CODE.test(block)) {
      const preamble = lines.slice(0, hits[0]!.index).join('\n');
      if (HAS_CODE.test(preamble)) block = `${block}\n${preamble.trim()}`.trim();
      else if (preamble.trim()) preambleContext = preamble.trim();
    }
    const prev = seen.get(hit.address);
    if (prev) {
      if (!prev.diagnostic.includes(block)) prev.diagnostic = `${prev.diagnostic}\n${block}`.trim();
      return;
    }
    const entry: BounceRecipient = { recipient: hit.address, action: 'failed', diagnostic: block };
    if (preambleContext) entry.context = preambleContext;
    // A Sendmail summary without a reply code (`554 <a@b>... Remote protocol error`): the server's
    // own words are the `<<<` reply above it in the same conversation (`While talking to ...`),
    // which leads the diagnostic.
    if (hit.own && !/\b[45]\d\d\b/.test(block)) {
      for (let i = hit.index - 1; i >= 0 && !/while talking to/i.test(lines[i]!); i--) {
        const reply = /^\s*<<<\s*([45]\d\d\b.*)$/.exec(lines[i]!);
        if (reply) {
          entry.diagnostic = `${reply[1]!.trim()} (${block})`;
          break;
        }
      }
    }
    seen.set(hit.address, entry);
  });
  return [...seen.values()];
}

/** Every address in a text, in order, without duplicates or excluded ones. */
export function addressesIn(text: string, exclude: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(ADDRESS)) {
    const a = addressOf(m[0]);
    if (exclude.has(a) || NOT_RECIPIENT.test(a) || out.includes(a)) continue;
    out.push(a);
  }
  return out;
}
