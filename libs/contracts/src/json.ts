/**
 * `JSON.stringify` for the plain data of the contracts, with the same output, faster on long
 * strings: Node 20's V8 escapes a string character by character (~30 µs for the 5 KB text of a
 * message), while most strings need no escaping at all, which one regular expression tells
 * (~10 µs). Anything that is not plain data (a Date, a class instance, an object with `toJSON`)
 * goes to JSON.stringify itself. `json.test.ts` compares both on a table of values.
 */
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;

function str(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

const skipped = (v: unknown): boolean => v === undefined || typeof v === 'function' || typeof v === 'symbol';

function value(v: unknown): string {
  if (typeof v === 'string') return str(v);
  if (typeof v !== 'object' || v === null) return JSON.stringify(v);
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return JSON.stringify(v);
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out += ',';
      const e: unknown = v[i];
      out += skipped(e) ? 'null' : value(e);
    }
    return out + ']';
  }
  if (Object.getPrototypeOf(v) !== Object.prototype) return JSON.stringify(v);
  let out = '{';
  let first = true;
  for (const k of Object.keys(v)) {
    const e = (v as Record<string, unknown>)[k];
    if (skipped(e)) continue;
    if (!first) out += ',';
    first = false;
    out += `${str(k)}:${value(e)}`;
  }
  return out + '}';
}

/** `JSON.stringify(v)` (no replacer, no indentation), for plain data. */
export function stringifyJson(v: unknown): string {
  return skipped(v) ? (JSON.stringify(v) as string) : value(v);
}

/**
 * The encoded JSON object `bytes` with `fields` added at its end, without decoding and re-encoding
 * the rest (a stage that adds a few fields to a 5 KB message). Byte for byte what
 * `JSON.stringify({ ...JSON.parse(bytes), ...fields })` gives when `bytes` is itself
 * JSON.stringify's output and has none of `fields`' keys (the caller's schema check guarantees
 * that: the fields are not allowed in the input). Undefined fields are skipped as JSON.stringify
 * does. Returns undefined when `bytes` does not end like an object with at least one member.
 */
export function appendJsonFields(bytes: Buffer, fields: Record<string, unknown>): Buffer | undefined {
  let end = bytes.length - 1;
  while (end >= 0 && (bytes[end] === 0x20 || bytes[end] === 0x0a || bytes[end] === 0x0d || bytes[end] === 0x09)) end--;
  if (end < 1 || bytes[end] !== 0x7d /* } */) return undefined;
  let before = end - 1;
  while (before >= 0 && (bytes[before] === 0x20 || bytes[before] === 0x0a || bytes[before] === 0x0d || bytes[before] === 0x09)) before--;
  if (before < 0 || bytes[before] === 0x7b /* { */) return undefined; // empty object: no member to follow
  let tail = '';
  for (const k of Object.keys(fields)) {
    const v = fields[k];
    if (skipped(v)) continue;
    tail += `,${str(k)}:${value(v)}`;
  }
  return Buffer.concat([bytes.subarray(0, end), Buffer.from(`${tail}}`)]);
}
