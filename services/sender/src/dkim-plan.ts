import type { DkimSignature } from './dkim-sign.ts';

/**
 * The signatures for one domain's keys: at most one RSA and one Ed25519 key (dual signing,
 * RFC 8463 §1: receivers that do not know Ed25519 still verify the RSA one). When a domain has
 * several selectors of one type (a rotation in progress), the selector that sorts last signs,
 * so a new key is put in service by adding a file whose name sorts after the old one (e.g.
 * dated selectors `s2026a` → `s2026b`). RSA first, then Ed25519.
 */
export function domainSignatures(keys: readonly DkimSignature[]): DkimSignature[] {
  const pick = (type: DkimSignature['type']) =>
    keys.filter((k) => k.type === type).reduce<DkimSignature | undefined>((best, k) => (!best || k.selector > best.selector ? k : best), undefined);
  return [pick('rsa'), pick('ed25519')].filter((k): k is DkimSignature => k !== undefined);
}

/**
 * Every signature of a message: the From domain's (author domain, what DMARC aligns on), then
 * the platform domain's when one is configured and differs (a second d= for the sending
 * platform's own reputation). A From domain without keys gets only the platform signature.
 */
export function planSignatures(fromKeys: readonly DkimSignature[], platformKeys: readonly DkimSignature[]): DkimSignature[] {
  const own = domainSignatures(fromKeys);
  const platform = domainSignatures(platformKeys).filter((p) => !own.some((o) => o.domain === p.domain));
  return [...own, ...platform];
}
