/** Address syntax checks for envelope use. Deliberately simple: one addr-spec, no comments, no routes. */

const LOCAL = /^[^\s@<>()[\]\\,;:"]+$|^"(?:[^"\\\r\n]|\\.)+"$/u;
const LABEL = /^(?!-)[\p{L}\p{N}-]{1,63}(?<!-)$/u;

export type Parsed = { ok: true; address: string; domain: string } | { ok: false; message: string };

/** Parses a bare `local@domain` address. */
export function parseAddress(input: string): Parsed {
  const s = input.trim();
  if (s.length > 320) return { ok: false, message: `address is longer than 320 characters` };
  const at = s.lastIndexOf('@');
  if (at <= 0 || at === s.length - 1) return { ok: false, message: `"${s}" is not of the form local@domain` };
  const local = s.slice(0, at);
  const domain = s.slice(at + 1).toLowerCase();
  if (local.length > 64) return { ok: false, message: `local part of "${s}" is longer than 64 characters` };
  if (!LOCAL.test(local)) return { ok: false, message: `local part of "${s}" has characters an address cannot have` };
  const domainName = domain.endsWith('.') ? domain.slice(0, -1) : domain;
  const labels = domainName.split('.');
  if (labels.length < 2 && !/^\[.+\]$/.test(domainName)) return { ok: false, message: `domain of "${s}" is not fully qualified` };
  if (!/^\[.+\]$/.test(domainName) && !labels.every((l) => LABEL.test(l))) return { ok: false, message: `domain of "${s}" is not a valid host name` };
  return { ok: true, address: `${local}@${domainName}`, domain: domainName };
}

/** Parses a From value: a bare address or `Display Name <address>`. */
export function parseMailbox(input: string): Parsed {
  const m = /^\s*(?:"(?:[^"\\]|\\.)*"|[^<"]*)\s*<([^<>]+)>\s*$/u.exec(input);
  return parseAddress(m ? m[1]! : input);
}

export const hasLineBreak = (s: string): boolean => /[\r\n]/.test(s);

/** RFC 5322 field name: printable US-ASCII except colon. */
export const isHeaderName = (s: string): boolean => /^[\x21-\x39\x3b-\x7e]+$/.test(s);
