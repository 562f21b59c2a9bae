import { promises as dnsPromises } from 'node:dns';

/** The part of node's Resolver the throttle uses (tests pass a real resolver on the test DNS). */
export interface MxResolverLike {
  resolveMx(name: string): Promise<{ exchange: string; priority: number }[]>;
}

export function createMxResolver(server: string | undefined, timeoutMs = 5000): MxResolverLike {
  const r = new dnsPromises.Resolver({ timeout: timeoutMs, tries: 2 });
  if (server) r.setServers([server]);
  return r;
}

/** A receiving "site": the set of MX hosts a domain uses (same form as the sender's `route.site`). */
export interface Site {
  site: string;
  hosts: string[];
}

/** Same form as the sender's siteOf: unique lower-case host names without the root dot, sorted, joined by commas. */
export function siteOf(exchanges: readonly string[]): Site {
  const hosts = [...new Set(exchanges.map((h) => h.toLowerCase().replace(/\.$/, '')).filter((h) => h !== ''))].sort();
  return { site: hosts.join(','), hosts };
}

/**
 * domain → site with a TTL cache and coalesced lookups. A domain without MX (or whose lookup
 * fails) is its own site (implicit MX / fallback), cached for a shorter time.
 */
export function createSiteResolver(opts: { resolver: MxResolverLike; ttlMs?: number; errorTtlMs?: number; now?: () => number; maxEntries?: number }) {
  const now = opts.now ?? Date.now;
  const ttl = opts.ttlMs ?? 300_000;
  const errorTtl = opts.errorTtlMs ?? 5_000;
  const max = opts.maxEntries ?? 100_000;
  const cache = new Map<string, { value: Site; until: number }>();
  const inFlight = new Map<string, Promise<Site>>();
  async function lookup(domain: string): Promise<Site> {
    try {
      const mx = await opts.resolver.resolveMx(domain);
      const named = mx.filter((m) => m.exchange !== '' && m.exchange !== '.');
      const value = named.length ? siteOf(named.map((m) => m.exchange)) : { site: domain, hosts: [domain] };
      store(domain, value, ttl);
      return value;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const value = { site: domain, hosts: [domain] };
      store(domain, value, code === 'ENOTFOUND' || code === 'ENODATA' ? ttl : errorTtl);
      return value;
    }
  }
  function store(domain: string, value: Site, forMs: number) {
    if (cache.size >= max) cache.delete(cache.keys().next().value!);
    cache.set(domain, { value, until: now() + forMs });
  }
  return {
    resolve(domain: string): Promise<Site> {
      const hit = cache.get(domain);
      if (hit && hit.until > now()) return Promise.resolve(hit.value);
      let p = inFlight.get(domain);
      if (!p) {
        p = lookup(domain).finally(() => inFlight.delete(domain));
        inFlight.set(domain, p);
      }
      return p;
    },
    /** Cached site of a domain, if known (attempts are mapped back with it). */
    cached(domain: string): Site | undefined {
      return cache.get(domain)?.value;
    },
  };
}
export type SiteResolver = ReturnType<typeof createSiteResolver>;
