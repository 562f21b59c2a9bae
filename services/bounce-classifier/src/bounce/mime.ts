/**
 * A small, forgiving MIME reader for bounce messages: headers (unfolded, RFC 2047 words decoded),
 * the multipart tree, transfer encodings (base64, quoted-printable) and charsets (via TextDecoder,
 * which knows ISO-2022-JP, Shift_JIS, KOI8-R, windows-125x ...). Bounces are often malformed
 * (missing boundaries, bad charsets, truncated parts): nothing here throws; bad input gives text.
 *
 * Pure: bytes in, a tree of parts out. Nested `message/rfc822` parts are parsed as messages too,
 * so the returned original's headers are available (correlation by Message-ID).
 */
export interface MimeHeader {
  /** Lower-cased name. */
  name: string;
  value: string;
}

export interface MimePart {
  headers: MimeHeader[];
  /** Lower-cased `type/subtype`, `text/plain` when absent. */
  contentType: string;
  params: Record<string, string>;
  /** Decoded text of a leaf part (empty for multiparts). */
  text: string;
  /** Sub-parts of a multipart, or the single embedded message of a message/rfc822 part. */
  parts: MimePart[];
}

/** Deepest nesting followed; deeper parts are kept as text. */
const MAX_DEPTH = 8;
/** Most parts read in one message (bounds pathological input). */
const MAX_PARTS = 200;

export function parseMime(raw: Buffer | string): MimePart {
  const text = typeof raw === 'string' ? raw : raw.toString('latin1');
  const budget = { parts: 0 };
  return parsePart(text, 0, budget, 'text/plain');
}

/** First value of a header (lower-case name), or undefined. */
export function header(part: MimePart, name: string): string | undefined {
  return part.headers.find((h) => h.name === name)?.value;
}

/** Every part of the tree, depth first (including `part` itself). */
export function walk(part: MimePart, out: MimePart[] = []): MimePart[] {
  out.push(part);
  for (const p of part.parts) walk(p, out);
  return out;
}

/** Splits header block and body; `raw` is latin1 (bytes as chars). */
export function splitHeaderBody(raw: string): { head: string; body: string } {
  const s = raw.replace(/^(?:From [^\n]*\n)/, ''); // mbox "From " line
  const m = /\r?\n\r?\n/.exec(s);
  if (!m) return /^[\x21-\x39\x3b-\x7e]+:/.test(s) ? { head: s, body: '' } : { head: '', body: s };
  return { head: s.slice(0, m.index), body: s.slice(m.index + m[0].length) };
}

export function parseHeaders(head: string): MimeHeader[] {
  const headers: MimeHeader[] = [];
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      headers[headers.length - 1]!.value += ' ' + line.trim();
      continue;
    }
    // Some MTAs (Verizon's, Apache James) forget to fold a parameter line: `Content-Type: multipart/
    // alternative;` then `boundary="..."` at column 0. A `name=value` line after a value ending in `;` continues it.
    const last = headers[headers.length - 1];
    if (last && /;\s*$/.test(last.value) && /^[\w-]+=/.test(line)) {
      last.value += ' ' + line.trim();
      continue;
    }
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) continue;
    headers.push({ name, value: line.slice(i + 1).trim() });
  }
  for (const h of headers) h.value = decodeWords(h.value);
  return headers;
}

function parseContentType(value: string | undefined, fallback: string): { type: string; params: Record<string, string> } {
  if (!value) return { type: fallback, params: {} };
  const [typePart, ...rest] = splitParams(value);
  // Only the `type/subtype` token: a missing `;` (`text/plain charset=...`) must not change the type.
  const type = /^[\w.+-]+\/[\w.+-]+/.exec((typePart ?? '').trim().toLowerCase())?.[0] ?? fallback;
  const params: Record<string, string> = {};
  for (const p of rest) {
    const i = p.indexOf('=');
    if (i <= 0) continue;
    params[p.slice(0, i).trim().toLowerCase()] = p.slice(i + 1).trim().replace(/^"(.*)"$/s, '$1');
  }
  return { type: type.includes('/') ? type : fallback, params };
}

function splitParams(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    if (ch === ';' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function parsePart(raw: string, depth: number, budget: { parts: number }, defaultType: string): MimePart {
  budget.parts++;
  const { head, body } = splitHeaderBody(raw);
  const headers = parseHeaders(head);
  const ct = parseContentType(headers.find((h) => h.name === 'content-type')?.value, defaultType);
  const part: MimePart = { headers, contentType: ct.type, params: ct.params, text: '', parts: [] };
  const cte = (headers.find((h) => h.name === 'content-transfer-encoding')?.value ?? '').toLowerCase().trim();

  if (ct.type.startsWith('multipart/') && ct.params.boundary && depth < MAX_DEPTH) {
    const childType = ct.type === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
    const chunks = splitMultipart(body, ct.params.boundary);
    if (chunks) {
      for (const chunk of chunks) {
        if (budget.parts >= MAX_PARTS) break;
        part.parts.push(parsePart(chunk, depth + 1, budget, childType));
      }
      return part;
    }
  }
  const bytes = decodeTransfer(body, cte);
  if ((ct.type === 'message/rfc822' || ct.type === 'message/global') && depth < MAX_DEPTH && budget.parts < MAX_PARTS) {
    const inner = bytes.toString('latin1');
    part.text = inner;
    part.parts.push(parsePart(inner, depth + 1, budget, 'text/plain'));
    return part;
  }
  part.text = decodeCharset(bytes, ct.params.charset);
  return part;
}

function splitMultipart(body: string, boundary: string): string[] | undefined {
  const delim = '--' + boundary;
  const lines = body.split(/\r?\n/);
  const chunks: string[] = [];
  let cur: string[] | undefined;
  let seen = false;
  for (const line of lines) {
    // Leading whitespace before a delimiter is tolerated (seen in the wild, e.g. RFC 3464's own example).
    const t = line.trim();
    if (t === delim || t === delim + '--') {
      seen = true;
      if (cur) chunks.push(cur.join('\n'));
      cur = t === delim ? [] : undefined;
      if (t !== delim) break;
      continue;
    }
    cur?.push(line);
  }
  if (cur && cur.length) chunks.push(cur.join('\n')); // missing closing boundary (truncated bounce)
  return seen ? chunks : undefined;
}

function decodeTransfer(body: string, cte: string): Buffer {
  if (cte === 'base64') return Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (cte === 'quoted-printable') {
    const s = body.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(s, 'latin1');
  }
  return Buffer.from(body, 'latin1');
}

/** Decodes bytes with a declared charset; unknown or missing charsets are tried as UTF-8, then latin1. */
export function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  const cs = (charset ?? '').trim().toLowerCase();
  if (cs === 'unicode-1-1-utf-7' || cs === 'utf-7') return decodeUtf7(bytes.toString('latin1'));
  const label = cs === '' || cs === 'us-ascii' || cs === 'uft-8' ? 'utf-8' : cs;
  try {
    return new TextDecoder(label, { fatal: true }).decode(bytes);
  } catch {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return bytes.toString('latin1');
    }
  }
}

function decodeUtf7(s: string): string {
  return s.replace(/\+([A-Za-z0-9+/]*)-?/g, (m, b64: string) => {
    if (b64 === '') return m === '+-' ? '+' : m;
    const buf = Buffer.from(b64, 'base64');
    let out = '';
    for (let i = 0; i + 1 < buf.length; i += 2) out += String.fromCharCode((buf[i]! << 8) | buf[i + 1]!);
    return out;
  });
}

/** RFC 2047 encoded words (`=?charset?B|Q?...?=`) in a header value. */
export function decodeWords(value: string): string {
  if (!value.includes('=?')) return value;
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g, (_, cs: string, enc: string, data: string) => {
      const bytes =
        enc.toUpperCase() === 'B'
          ? Buffer.from(data, 'base64')
          : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
      return decodeCharset(bytes, cs.split('*')[0]);
    });
}
