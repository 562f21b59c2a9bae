import { promises as dnsPromises } from 'node:dns';
import {
  decideAddresses,
  decideImplicit,
  decideMx,
  type AddressRecord,
  type AddressResult,
  type DnsAnswer,
  type DnsFailure,
  type MxRecord,
  type MxResult,
} from './mx-decide.ts';
import { TtlCache } from './ttl-cache.ts';

/** The part of node's `dns.promises.Resolver` the sender uses; tests pass a plain object. */
export interface DnsResolverLike {
  resolveMx(name: string): Promise<MxRecord[]>;
  resolve4(name: string, options: { ttl: true }): Promise<AddressRecord[]>;
  resolve6(name: string, options: { ttl: true }): Promise<AddressRecord[]>;
  /** TXT records (MTA-STS); a resolver without it disables MTA-STS. */
  resolveTxt?(name: string): Promise<string[][]>;
}

export interface DnsResolverOptions {
  /** `ip`, `ip:port` or `[ipv6]:port`; absent = the system's resolvers (/etc/resolv.conf). */
  server?: string | undefined;
  /** Per-query timeout (c-ares doubles it on each try). */
  timeoutMs?: number;
  tries?: number;
}

/** A real resolver, talking to `server` when given. */
export function createDnsResolver(opts: DnsResolverOptions = {}): DnsResolverLike {
  const r = new dnsPromises.Resolver({ timeout: opts.timeoutMs ?? 5000, tries: opts.tries ?? 2 });
  if (opts.server) r.setServers([opts.server]);
  return r;
}

export interface MxLookupOptions {
  resolver: DnsResolverLike;
  now?: () => number;
  /**
   * How long an MX answer is reused. Node's resolveMx does not return the record's TTL, so
   * MX answers are kept for this fixed time (default 300 s, a common MX TTL); A/AAAA answers
   * use their own TTL, clamped to [minTtlMs, maxTtlMs].
   */
  mxTtlMs?: number;
  /** How long a permanent answer (NXDOMAIN, null MX, no mail host) is reused. Default 60 s. */
  negativeTtlMs?: number;
  /** How long a transient failure (SERVFAIL, timeout) is reused, so a burst for a broken domain asks once. Default 5 s. */
  errorTtlMs?: number;
  minTtlMs?: number;
  maxTtlMs?: number;
  maxEntries?: number;
}

/** Cached, coalesced MX and address lookups. Results are values: nothing here throws. */
export interface MxLookup {
  /** Where mail for `domain` goes (MX hosts or implicit MX), or why it cannot go anywhere. */
  mx(domain: string): Promise<MxResult>;
  /** The addresses of a mail host. */
  addresses(host: string): Promise<AddressResult>;
  clear(): void;
}

async function answer<T>(query: () => Promise<T[]>): Promise<DnsAnswer<T>> {
  try {
    return { ok: true, records: await query() };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, code: typeof code === 'string' ? code : 'EUNKNOWN' };
  }
}

export function createMxLookup(opts: MxLookupOptions): MxLookup {
  const now = opts.now ?? Date.now;
  const mxTtl = opts.mxTtlMs ?? 300_000;
  const negativeTtl = opts.negativeTtlMs ?? 60_000;
  const errorTtl = opts.errorTtlMs ?? 5_000;
  const minTtl = opts.minTtlMs ?? 1_000;
  const maxTtl = opts.maxTtlMs ?? 3_600_000;
  const mxCache = new TtlCache<MxResult>(opts.maxEntries);
  const addrCache = new TtlCache<AddressResult>(opts.maxEntries);
  const mxInFlight = new Map<string, Promise<MxResult>>();
  const addrInFlight = new Map<string, Promise<AddressResult>>();
  const r = opts.resolver;

  const failureTtl = (f: DnsFailure) => (f.permanent ? negativeTtl : errorTtl);
  const addrTtl = (res: AddressResult) => (res.ok ? Math.min(maxTtl, Math.max(minTtl, res.ttl * 1000)) : failureTtl(res));
  const storeAddresses = (host: string, res: AddressResult) => addrCache.set(host, res, now() + addrTtl(res));

  async function queryAddresses(host: string): Promise<[DnsAnswer<AddressRecord>, DnsAnswer<AddressRecord>]> {
    return Promise.all([answer(() => r.resolve4(host, { ttl: true })), answer(() => r.resolve6(host, { ttl: true }))]);
  }

  async function lookupMx(domain: string): Promise<MxResult> {
    const decided = decideMx(domain, await answer(() => r.resolveMx(domain)));
    if (decided !== 'implicit') return decided;
    const [a, aaaa] = await queryAddresses(domain);
    const implicit = decideImplicit(domain, a, aaaa);
    if (implicit.ok) storeAddresses(domain, decideAddresses(domain, a, aaaa));
    return implicit;
  }

  function coalesce<V>(key: string, cache: TtlCache<V>, inFlight: Map<string, Promise<V>>, run: () => Promise<V>, ttlOf: (v: V) => number): Promise<V> {
    const hit = cache.get(key, now());
    if (hit !== undefined) return Promise.resolve(hit);
    let p = inFlight.get(key);
    if (!p) {
      p = run().then((v) => {
        cache.set(key, v, now() + ttlOf(v));
        inFlight.delete(key);
        return v;
      });
      inFlight.set(key, p);
    }
    return p;
  }

  return {
    mx: (domain) => coalesce(domain, mxCache, mxInFlight, () => lookupMx(domain), (v) => (v.ok ? mxTtl : failureTtl(v))),
    addresses: (host) =>
      coalesce(host, addrCache, addrInFlight, async () => {
        const [a, aaaa] = await queryAddresses(host);
        return decideAddresses(host, a, aaaa);
      }, addrTtl),
    clear() {
      mxCache.clear();
      addrCache.clear();
    },
  };
}
