import type { IpPools, SourceIp } from '@mta/config';

export const DEFAULT_POOL = 'default';

export interface ChosenSource extends SourceIp {
  pool: string;
}

/** FNV-1a, 32 bits: a stable, well-spread hash of a short string. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The local address (and its EHLO name) a delivery goes out from.
 * - No pools configured: undefined (the OS picks the address, MTA_EHLO_NAME is used).
 * - The pool is the request's `ipPool`, else `default`; a pool that does not exist falls back
 *   to `default`; without that either, undefined.
 * - `sourceIp` (chosen by the throttle) is used when it belongs to the pool.
 * - Otherwise the recipient domain picks a member by a stable hash, so every message and retry
 *   for a domain leaves from the same address (greylisting remembers the client address).
 */
export function chooseSource(pools: IpPools | undefined, d: { ipPool?: string | undefined; sourceIp?: string | undefined; recipientDomain: string }): ChosenSource | undefined {
  if (!pools) return undefined;
  let name = d.ipPool ?? DEFAULT_POOL;
  let members = pools.get(name);
  if (!members || members.length === 0) {
    name = DEFAULT_POOL;
    members = pools.get(name);
  }
  if (!members || members.length === 0) return undefined;
  const chosen = (d.sourceIp !== undefined ? members.find((m) => m.ip === d.sourceIp) : undefined) ?? members[fnv1a(d.recipientDomain) % members.length]!;
  return { pool: name, ip: chosen.ip, ehlo: chosen.ehlo };
}
