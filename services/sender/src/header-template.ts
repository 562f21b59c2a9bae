import MailComposer from 'nodemailer/lib/mail-composer';
import * as mimeFuncs from 'nodemailer/lib/mime-funcs';
import type { SendMailOptions } from 'nodemailer';
import { TtlCache } from './ttl-cache.ts';

/** nodemailer's header folding (exported by mime-funcs, missing from its type definitions). */
const foldLines = (mimeFuncs as unknown as { foldLines(str: string, lineLength: number): string }).foldLines;

/**
 * The root header block of a structured message without running MailComposer per message.
 *
 * MailComposer's `compile()` + `buildHeaders()` cost ~250 µs of CPU per message (the MIME tree,
 * a scan of the whole text for its encoding, address parsing, folding), most of it for parts that
 * are the same for every recipient of a content. So MailComposer builds the block once per shape
 * (From, the custom header names, which content) with a sentinel in place of each per-message
 * value (To, Subject, Message-ID, each custom header's value) and of the Date; per message the
 * real values go in their place.
 *
 * The result is exactly what MailComposer writes, by construction: a value is put in only when
 * nodemailer itself renders its line verbatim (`foldLines(key + ': ' + encodeHeaderValue(key,
 * value), 76)` is `key + ': ' + value`, which is what `buildHeaders()` writes for these headers),
 * checked per message with the template's own MimeNode; anything else (an encoded word, a folded
 * line, an empty value) returns undefined and the caller composes the message in full.
 */

type Mail = Omit<SendMailOptions, 'envelope'>;

interface Slot {
  /** The header name as nodemailer writes it. */
  key: string;
  /** Where the value comes from: to, subject, messageId, header:<index>, or the date. */
  from: 'to' | 'subject' | 'messageId' | 'date' | number;
}

interface Template {
  /** Literal text around the slots: literal[0] slot[0] literal[1] ... literal[n]. */
  literal: string[];
  slots: Slot[];
  /** MailComposer's root node of the template: its `encodeHeaderValue` checks each value. */
  node: { encodeHeaderValue(key: string, value: string): string };
}

/** Header names whose line `buildHeaders()` does not write through the generic path, or that the root node sets itself. */
const SPECIAL = /^(from|sender|to|cc|bcc|reply-to|in-reply-to|references|subject|message-id|date|mime-version|content-.*|otp-token)$/i;

const sentinel = (i: number | string) => `zq${i}slotzq`;
const SENTINEL_TO = `${sentinel('to')}@slot.invalid`;
const SENTINEL_MESSAGE_ID = `<${sentinel('mid')}@slot.invalid>`;

const templates = new TtlCache<Template | null>(256); // entries never expire
let built = 0;
let used = 0;

/** Templates built and messages whose header block came from one (tests, benchmarks). */
export const headerTemplateStats = (): { built: number; used: number } => ({ built, used });

/** nodemailer's Date header value for `d` (MimeNode.buildHeaders). */
const dateValue = (d: Date): string => d.toUTCString().replace(/GMT/, '+0000');
let lastDate = { second: -1, value: '' };
function nowDateValue(): string {
  const ms = Date.now();
  const second = Math.floor(ms / 1000);
  if (second !== lastDate.second) lastDate = { second, value: dateValue(new Date(second * 1000)) };
  return lastDate.value;
}

function build(mail: Mail, baseBoundary: string): Template | null {
  const headers = (mail.headers ?? {}) as Record<string, unknown>;
  const names = Object.keys(headers);
  const slotted: Mail = {
    ...mail,
    to: SENTINEL_TO,
    subject: sentinel('subject'),
    ...(mail.messageId !== undefined ? { messageId: SENTINEL_MESSAGE_ID } : {}),
    headers: Object.fromEntries(names.map((n, i) => [n, sentinel(i)])),
  };
  const root = new MailComposer({ ...slotted, baseBoundary, disableFileAccess: true, disableUrlAccess: true }).compile() as unknown as Template['node'] & {
    buildHeaders(): string;
    date: Date;
  };
  const block = root.buildHeaders();
  const date = dateValue(root.date);
  const bySentinel = new Map<string, Slot['from']>([
    [SENTINEL_TO, 'to'],
    [sentinel('subject'), 'subject'],
    [SENTINEL_MESSAGE_ID, 'messageId'],
    ...names.map((_, i) => [sentinel(i), i] as [string, number]),
  ]);
  const literal: string[] = [];
  const slots: Slot[] = [];
  let text = '';
  let first = true;
  for (const line of block.split('\r\n')) {
    if (!first) text += '\r\n';
    first = false;
    const colon = line.indexOf(': ');
    const key = colon > 0 ? line.slice(0, colon) : '';
    const value = colon > 0 ? line.slice(colon + 2) : '';
    const from = key && !/\s/.test(key) ? (bySentinel.get(value) ?? (key === 'Date' && value === date ? 'date' : undefined)) : undefined;
    if (from === undefined) {
      if (line.includes('slotzq') || line.includes('slot.invalid')) return null; // a sentinel nodemailer did not write verbatim
      text += line;
      continue;
    }
    if (slots.some((s) => s.from === from)) return null;
    literal.push(text + key + ': ');
    text = '';
    slots.push({ key, from });
  }
  literal.push(text);
  const expected = 2 + (mail.messageId !== undefined ? 1 : 0) + names.length + 1; // to, subject, message-id, headers, date
  if (slots.length !== expected) return null;
  return { literal, slots, node: root };
}

/** Header names `encodeHeaderValue` treats apart (the other names take its generic text path). */
const NAMED = /^(from|sender|to|cc|bcc|reply-to|message-id|in-reply-to|content-id|otp-token|references|date|content-type|content-disposition)$/i;
const PRINTABLE = /^[\x20\x21\x23-\x7e]*$/; // printable ASCII without the double quote
/**
 * A bare lower-case address nodemailer writes as it is: a dot-atom of letters, digits, `_+-` and a
 * host name of LDH labels without `--` (no A-label, nothing `domainToASCII` or punycode would
 * change), so `_normalizeAddress` gives it back and `PLAIN_ADDRESS` keeps it without brackets.
 */
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const PLAIN_LOWER_ADDRESS = new RegExp(`^[a-z0-9_+-]+(?:\\.[a-z0-9_+-]+)*@${LABEL}(?:\\.${LABEL})+$`);

/**
 * Values `encodeHeaderValue(key, value)` returns unchanged, known without calling it (nodemailer
 * 10's mime-node): on the generic path, text without control characters, `"`, non-ASCII or an
 * `=?` (`_encodeHeaderText` → `encodeWords`, which only encodes such text); a Message-ID already
 * in angle brackets without control characters; a To that is a plain lower-case address. Anything else is asked of nodemailer itself.
 * The line is verbatim only when it is also shorter than 76 characters (`foldLines`).
 */
function verbatim(key: string, value: string): boolean {
  if (!PRINTABLE.test(value)) return false;
  if (!NAMED.test(key)) return !value.includes('=?');
  if (key === 'To') return PLAIN_LOWER_ADDRESS.test(value) && !value.includes('--');
  return key === 'Message-ID' && value.length >= 2 && value.startsWith('<') && value.endsWith('>');
}

/**
 * The root header block MailComposer would write for `mail` (without the blank line after it), or
 * undefined when it has to be composed in full: custom headers that are special to nodemailer, a
 * caller-given date, or a per-message value nodemailer would encode or fold.
 */
export function templatedHeaders(mail: Mail, bodyKey: string): string | undefined {
  if (mail.date !== undefined || typeof mail.to !== 'string' || typeof mail.subject !== 'string' || typeof mail.from !== 'string') return undefined;
  if (mail.messageId !== undefined && typeof mail.messageId !== 'string') return undefined;
  const headers = (mail.headers ?? {}) as Record<string, unknown>;
  const names = Object.keys(headers);
  for (const n of names) if (SPECIAL.test(n) || typeof headers[n] !== 'string') return undefined;
  const id = JSON.stringify([bodyKey, mail.from, mail.messageId !== undefined, names]);
  let t = templates.get(id, 0);
  if (t === undefined) {
    t = build(mail, bodyKey.slice(0, 24));
    templates.set(id, t, Infinity);
    built++;
  }
  if (t === null) return undefined;
  let out = t.literal[0]!;
  for (let i = 0; i < t.slots.length; i++) {
    const { key, from } = t.slots[i]!;
    const value =
      from === 'date' ? nowDateValue() : from === 'to' ? (mail.to as string) : from === 'subject' ? (mail.subject as string) : from === 'messageId' ? (mail.messageId as string) : (headers[names[from]!] as string);
    if (from !== 'date') {
      // buildHeaders() skips a blank value; anything nodemailer would change goes the full way.
      if (!value.trim()) return undefined;
      const line = `${key}: ${value}`;
      if (!(line.length < 76 && verbatim(key, value)) && foldLines(`${key}: ${t.node.encodeHeaderValue(key, value)}`, 76) !== line) return undefined;
    }
    out += value + t.literal[i + 1]!;
  }
  used++;
  return out;
}

/** For tests: the shortcut of `verbatim`. */
export const verbatimForTest = verbatim;
