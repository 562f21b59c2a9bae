/**
 * VERP envelope senders (one return path per message) so that an asynchronous bounce can be
 * matched to the message it is about. Shared by the sender (encodes, as MAIL FROM) and the
 * bounce-classifier's inbound listener (decodes the address a bounce was sent to).
 *
 * Format: `<prefix>-<base64url(messageId)>@<bounceDomain>`, e.g. `b-bXNnLTE@bounces.example.net`.
 * base64url keeps any messageId (Campaign's are opaque strings) inside the dot-atom alphabet; the
 * local part stays within 64 octets for messageIds of up to 45 bytes (longer ones still work with
 * every MTA we know of, which accept longer local parts, but RFC 5321 only promises 64).
 */
export const VERP_PREFIX = 'b';

export function verpEncode(messageId: string, bounceDomain: string, prefix = VERP_PREFIX): string {
  return `${prefix}-${Buffer.from(messageId, 'utf8').toString('base64url')}@${bounceDomain.toLowerCase()}`;
}

/**
 * The messageId a VERP address encodes, or undefined when the address is not one of ours (wrong
 * domain, wrong prefix, not base64url). Domains compare case-insensitively; local parts are
 * compared exactly except the prefix, which is case-insensitive (some MTAs lower-case it).
 */
export function verpDecode(address: string, bounceDomains: readonly string[], prefix = VERP_PREFIX): string | undefined {
  const addr = address.trim().replace(/^<|>$/g, '');
  const at = addr.lastIndexOf('@');
  if (at <= 0) return undefined;
  const domain = addr.slice(at + 1).toLowerCase();
  if (!bounceDomains.some((d) => d.toLowerCase() === domain)) return undefined;
  const local = addr.slice(0, at);
  const head = `${prefix}-`;
  if (local.slice(0, head.length).toLowerCase() !== head.toLowerCase()) return undefined;
  const encoded = local.slice(head.length);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return undefined;
  const id = Buffer.from(encoded, 'base64url').toString('utf8');
  // Reject what does not round-trip (a corrupted or hand-typed address).
  if (!id || Buffer.from(id, 'utf8').toString('base64url') !== encoded) return undefined;
  return id;
}
