import { isIP } from 'node:net';
import type { Key } from './keys.ts';

/** One local source address of a pool and the EHLO name that goes with it (its PTR). */
export interface SourceIp {
  ip: string;
  ehlo: string;
}
export type IpPools = ReadonlyMap<string, readonly SourceIp[]>;

const POOL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const HOST_NAME = /^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/**
 * Parses `MTA_IP_POOLS`: `pool=ip[/ehlo][,ip[/ehlo]...][;pool=...]`, e.g.
 * `default=127.0.0.2/mta1.example.net,127.0.0.3/mta2.example.net;transactional=127.0.0.4/mta3.example.net`.
 * An address without `/ehlo` uses `defaultEhlo`. Every bad element is reported, not just the first.
 * The same address may belong to several pools (with the same EHLO name everywhere).
 */
export function parseIpPools(raw: string, defaultEhlo: string): { ok: true; pools: IpPools } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const pools = new Map<string, SourceIp[]>();
  const ehloOf = new Map<string, string>();
  const parts = raw.split(';').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) errors.push('no pool given (expected pool=ip[/ehlo],...)');
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq < 0) {
      errors.push(`"${part}": expected pool=ip[/ehlo],...`);
      continue;
    }
    const name = part.slice(0, eq).trim();
    if (!POOL_NAME.test(name)) errors.push(`"${name}": a pool name is letters, digits, '.', '_' or '-'`);
    if (pools.has(name)) errors.push(`pool "${name}" is defined twice`);
    const members: SourceIp[] = [];
    for (const item of part.slice(eq + 1).split(',').map((s) => s.trim())) {
      if (item === '') {
        errors.push(`pool "${name}": empty address`);
        continue;
      }
      const slash = item.indexOf('/');
      const ip = (slash < 0 ? item : item.slice(0, slash)).trim();
      const ehlo = (slash < 0 ? defaultEhlo : item.slice(slash + 1)).trim().toLowerCase();
      if (isIP(ip) === 0) errors.push(`pool "${name}": "${ip}" is not an IP address`);
      if (!HOST_NAME.test(ehlo)) errors.push(`pool "${name}": EHLO name "${ehlo}" of ${ip} is not a fully qualified host name`);
      if (members.some((m) => m.ip === ip)) errors.push(`pool "${name}": ${ip} is listed twice`);
      const known = ehloOf.get(ip);
      if (known !== undefined && known !== ehlo) errors.push(`${ip} has two EHLO names: ${known} and ${ehlo}`);
      ehloOf.set(ip, ehlo);
      members.push({ ip, ehlo });
    }
    pools.set(name, members);
  }
  return errors.length ? { ok: false, errors } : { ok: true, pools };
}

/** The MTA_IP_POOLS key (optional: unset = no pools, the OS picks the source address). */
export const ipPoolsKey = (env: string, description: string, defaultEhlo: () => string): Key<IpPools | undefined> => ({
  env,
  description,
  optional: true,
  parse(raw) {
    if (raw.trim() === '') return undefined;
    const r = parseIpPools(raw, defaultEhlo());
    if (!r.ok) throw new Error(r.errors.join('; '));
    return r.pools;
  },
});
