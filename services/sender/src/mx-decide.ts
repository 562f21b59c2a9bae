/**
 * Pure decisions over DNS answers: no I/O, no clock. `mx.ts` does the lookups and caching and
 * calls these; tests feed them plain data.
 */

/** One MX record as node's resolver returns it. */
export interface MxRecord {
  exchange: string;
  priority: number;
}

/** One A/AAAA record with its TTL (seconds), as `resolve4(name, { ttl: true })` returns it. */
export interface AddressRecord {
  address: string;
  ttl: number;
}

/** What a DNS query gave: records, or the resolver's error code (ENODATA, ENOTFOUND, ESERVFAIL...). */
export type DnsAnswer<T> = { ok: true; records: T[] } | { ok: false; code: string };

export type DnsFailureKind = 'null-mx' | 'nxdomain' | 'no-mail-host' | 'no-address' | 'servfail';

/** A DNS outcome that prevents delivery, permanent or not. */
export interface DnsFailure {
  ok: false;
  kind: DnsFailureKind;
  permanent: boolean;
  message: string;
  /** The resolver's code behind it, when there was one. */
  dnsCode?: string;
}

export interface MxHost {
  /** Lower-cased host name without a trailing dot. */
  name: string;
  preference: number;
}

/** Where a domain's mail goes: MX hosts in preference order, or the domain itself (implicit MX). */
export interface MxTargets {
  ok: true;
  via: 'mx' | 'implicit-mx';
  hosts: MxHost[];
  /** Sorted MX host names joined by ",": the identity shared by every domain on the same hosts. */
  site: string;
}

export type MxResult = MxTargets | DnsFailure;

export interface Addresses {
  ok: true;
  /** IPv4 first, then IPv6. */
  addresses: string[];
  /** Smallest TTL of the answers, seconds. */
  ttl: number;
}

export type AddressResult = Addresses | DnsFailure;

/** Codes that say the name does not exist or has no such record: answers, not failures. */
export const NXDOMAIN = 'ENOTFOUND';
export const NODATA = 'ENODATA';

/** Anything else (ESERVFAIL, ETIMEOUT, ECONNREFUSED, EREFUSED...) is a failure to get an answer. */
export function isTransientDnsCode(code: string): boolean {
  return code !== NXDOMAIN && code !== NODATA;
}

const stripDot = (name: string): string => (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();

export function siteOf(hosts: readonly MxHost[]): string {
  return [...new Set(hosts.map((h) => h.name))].sort().join(',');
}

function transient(domain: string, what: string, code: string): DnsFailure {
  const kind = code === 'ESERVFAIL' ? 'SERVFAIL' : code === 'ETIMEOUT' ? 'timeout' : code;
  return {
    ok: false,
    kind: 'servfail',
    permanent: false,
    message: `temporary DNS failure (${kind}) looking up ${what} of ${domain}`,
    dnsCode: code,
  };
}

function nxdomain(domain: string): DnsFailure {
  return { ok: false, kind: 'nxdomain', permanent: true, message: `domain ${domain} does not exist (NXDOMAIN)`, dnsCode: NXDOMAIN };
}

/**
 * Decides from the MX answer: hosts in preference order (ties by name, so the order is stable),
 * a null MX (RFC 7505: a single `MX 0 .`) as a permanent refusal, NXDOMAIN as permanent,
 * `'implicit'` when the domain exists without MX (RFC 5321 §5.1: use its A/AAAA), any other
 * error as transient.
 */
export function decideMx(domain: string, answer: DnsAnswer<MxRecord>): MxResult | 'implicit' {
  if (!answer.ok) {
    if (answer.code === NODATA) return 'implicit';
    if (answer.code === NXDOMAIN) return nxdomain(domain);
    return transient(domain, 'MX', answer.code);
  }
  if (answer.records.length === 0) return 'implicit';
  const hosts: MxHost[] = [];
  for (const r of answer.records) {
    const name = stripDot(r.exchange);
    if (name !== '') hosts.push({ name, preference: r.priority });
  }
  if (hosts.length === 0) {
    return { ok: false, kind: 'null-mx', permanent: true, message: `domain ${domain} accepts no mail (null MX, RFC 7505)` };
  }
  hosts.sort((a, b) => a.preference - b.preference || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { ok: true, via: 'mx', hosts, site: siteOf(hosts) };
}

/** Without MX: the domain's own A/AAAA records make it its own mail host. */
export function decideImplicit(domain: string, a: DnsAnswer<AddressRecord>, aaaa: DnsAnswer<AddressRecord>): MxResult {
  const has = (x: DnsAnswer<AddressRecord>) => x.ok && x.records.length > 0;
  if (has(a) || has(aaaa)) return { ok: true, via: 'implicit-mx', hosts: [{ name: domain, preference: 0 }], site: domain };
  for (const x of [a, aaaa]) if (!x.ok && isTransientDnsCode(x.code)) return transient(domain, 'A/AAAA', x.code);
  if ((!a.ok && a.code === NXDOMAIN) || (!aaaa.ok && aaaa.code === NXDOMAIN)) return nxdomain(domain);
  return { ok: false, kind: 'no-mail-host', permanent: true, message: `domain ${domain} has no MX and no A/AAAA record`, dnsCode: NODATA };
}

/**
 * The addresses of a mail host (an MX target or a route's host name). A host without any is
 * a transient failure for the message: the receiving domain's DNS is broken, which is its
 * operator's to fix within the validity period, as Postfix defers it.
 */
export function decideAddresses(host: string, a: DnsAnswer<AddressRecord>, aaaa: DnsAnswer<AddressRecord>): AddressResult {
  const addresses: string[] = [];
  let ttl = Number.POSITIVE_INFINITY;
  for (const x of [a, aaaa]) {
    if (!x.ok) continue;
    for (const r of x.records) {
      addresses.push(r.address);
      ttl = Math.min(ttl, r.ttl);
    }
  }
  if (addresses.length > 0) return { ok: true, addresses, ttl: Number.isFinite(ttl) ? ttl : 0 };
  for (const x of [a, aaaa]) if (!x.ok && isTransientDnsCode(x.code)) return transient(host, 'A/AAAA', x.code);
  const why = (!a.ok && a.code === NXDOMAIN) || (!aaaa.ok && aaaa.code === NXDOMAIN) ? 'does not exist' : 'has no A/AAAA record';
  return { ok: false, kind: 'no-address', permanent: false, message: `mail host ${host} ${why}`, dnsCode: a.ok ? NODATA : a.code };
}

/**
 * Rotates each group of equal preference by `n`, so that hosts of the same preference share
 * the load (RFC 5321 §5.1 asks for randomisation among them) while lower preferences stay first.
 */
export function rotateEqualPreference(hosts: readonly MxHost[], n: number): MxHost[] {
  const out: MxHost[] = [];
  for (let i = 0; i < hosts.length; ) {
    let j = i;
    while (j < hosts.length && hosts[j]!.preference === hosts[i]!.preference) j++;
    const size = j - i;
    const shift = size > 1 ? n % size : 0;
    for (let k = 0; k < size; k++) out.push(hosts[i + ((k + shift) % size)]!);
    i = j;
  }
  return out;
}
