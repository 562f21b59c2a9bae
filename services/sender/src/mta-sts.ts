import { request } from 'node:https';
import type { LookupFunction } from 'node:net';
import mtaSts, { type MtaStsPolicy } from 'mailauth/lib/mta-sts.js';

/**
 * MTA-STS (RFC 8461): a domain publishes `_mta-sts.<domain> TXT "v=STSv1; id=..."` and a policy
 * at `https://mta-sts.<domain>/.well-known/mta-sts.txt` (mode, mx patterns, max_age). mailauth
 * parses the policy and matches MX names (`parsePolicy`, `validateMx`); this module does the
 * lookups through injected functions and caches each policy for its max_age.
 */
export interface StsPolicy {
  mode: 'enforce' | 'testing' | 'none';
  mx: string[];
  id: string;
  /** The policy's max_age (capped), in ms. */
  maxAgeMs: number;
  /** When the cached policy must be fetched again (ms since epoch). */
  expiresAt: number;
}

/** The policy text of a domain, or undefined when it has none (no host, 404). Throws on other failures. */
export type StsFetcher = (domain: string) => Promise<string | undefined>;
/** TXT records of a name, as node's resolveTxt returns them (ENOTFOUND/ENODATA = none). */
export type TxtResolver = (name: string) => Promise<string[][]>;

export interface MtaStsOptions {
  resolveTxt: TxtResolver;
  fetch: StsFetcher;
  now?: () => number;
  /** How long "this domain has no MTA-STS" is cached. Default 1 h. */
  absentTtlMs?: number;
  /** How long a failed lookup (no known policy to fall back on) is cached as "no policy". Default 5 min. */
  errorTtlMs?: number;
  /** Longest a policy is cached whatever its max_age says. Default 1 day (RFC 8461 allows up to a year). */
  maxCacheMs?: number;
}

export type StsAnswer = { policy: StsPolicy | undefined; status: 'cached' | 'found' | 'none' | 'error'; error?: string };

/** The `id` of a domain's `v=STSv1` TXT record; undefined when there is none. */
export function stsRecordId(records: string[][]): string | undefined {
  const sts = records.map((r) => r.join('').trim()).filter((r) => /^v=STSv1(;|\s|$)/i.test(r));
  if (sts.length !== 1) return undefined; // RFC 8461 §3.1: several records = no policy
  return /(?:^|;)\s*id=([A-Za-z0-9]{1,32})\s*(?:;|$)/.exec(sts[0]!)?.[1];
}

const NONE = (code: unknown) => code === 'ENOTFOUND' || code === 'ENODATA';

export interface MtaSts {
  /** The domain's policy (undefined = none), cached. Never throws. */
  policy(domain: string): Promise<StsAnswer>;
  /** Whether an MX host name is allowed by an enforce/testing policy. */
  allows(policy: StsPolicy, mxHost: string): boolean;
}

export function createMtaSts(opts: MtaStsOptions): MtaSts {
  const now = opts.now ?? Date.now;
  const absentTtl = opts.absentTtlMs ?? 3_600_000;
  const errorTtl = opts.errorTtlMs ?? 300_000;
  const maxCache = opts.maxCacheMs ?? 86_400_000;
  const cache = new Map<string, { policy: StsPolicy | undefined; until: number }>();
  const pending = new Map<string, Promise<StsAnswer>>();

  async function refresh(domain: string, known: StsPolicy | undefined): Promise<StsAnswer> {
    let id: string | undefined;
    try {
      id = stsRecordId(await opts.resolveTxt(`_mta-sts.${domain}`));
    } catch (err) {
      if (!NONE((err as NodeJS.ErrnoException).code)) return failed(domain, known, err);
    }
    if (id === undefined) {
      cache.set(domain, { policy: undefined, until: now() + absentTtl });
      return { policy: undefined, status: 'none' };
    }
    if (known && known.id === id) {
      // Same policy id: the published policy did not change, keep it for another max_age.
      const renewed = { ...known, expiresAt: now() + known.maxAgeMs };
      cache.set(domain, { policy: renewed, until: renewed.expiresAt });
      return { policy: renewed, status: 'found' };
    }
    try {
      const text = await opts.fetch(domain);
      if (text === undefined) {
        cache.set(domain, { policy: undefined, until: now() + absentTtl });
        return { policy: undefined, status: 'none' };
      }
      const p: MtaStsPolicy = mtaSts.parsePolicy(text);
      const maxAgeMs = Math.min(maxCache, (p.maxAge ?? 0) * 1000);
      const policy: StsPolicy = { mode: p.mode, mx: p.mx ?? [], id, maxAgeMs, expiresAt: now() + maxAgeMs };
      cache.set(domain, { policy, until: policy.expiresAt });
      return { policy, status: 'found' };
    } catch (err) {
      return failed(domain, known, err);
    }
  }

  /** RFC 8461 §5.1: a policy that cannot be refreshed keeps being used; without one, none applies for a while. */
  function failed(domain: string, known: StsPolicy | undefined, err: unknown): StsAnswer {
    const error = err instanceof Error ? err.message : String(err);
    cache.set(domain, { policy: known, until: now() + errorTtl });
    return { policy: known, status: 'error', error };
  }

  return {
    async policy(domain) {
      const d = domain.toLowerCase();
      const hit = cache.get(d);
      if (hit && hit.until > now()) return { policy: hit.policy, status: 'cached' };
      let p = pending.get(d);
      if (!p) {
        p = refresh(d, hit?.policy).finally(() => pending.delete(d));
        pending.set(d, p);
      }
      return p;
    },
    allows(policy, mxHost) {
      return mtaSts.validateMx(mxHost, { mode: policy.mode, mx: policy.mx }).valid;
    },
  };
}

export interface HttpsFetcherOptions {
  /** Trusted CAs instead of the system's (tests; production uses the system store / NODE_EXTRA_CA_CERTS). */
  ca?: string | Buffer;
  /** Port of the policy host (443; other values are for tests). */
  port?: number;
  /** Resolves `mta-sts.<domain>` (default: the system's getaddrinfo). */
  lookup?: LookupFunction;
  timeoutMs?: number;
}

/**
 * Fetches `https://mta-sts.<domain>/.well-known/mta-sts.txt` as RFC 8461 §3.3 says: a valid
 * certificate for the host, no redirects, 200 only, text/plain, at most 64 KiB. 404 (or a host
 * that does not resolve) = no policy.
 */
export function httpsStsFetcher(opts: HttpsFetcherOptions = {}): StsFetcher {
  return (domain) =>
    new Promise((resolve, reject) => {
      const host = `mta-sts.${domain}`;
      const req = request(
        {
          host,
          servername: host,
          port: opts.port ?? 443,
          path: '/.well-known/mta-sts.txt',
          method: 'GET',
          rejectUnauthorized: true,
          timeout: opts.timeoutMs ?? 10_000,
          ...(opts.ca ? { ca: opts.ca } : {}),
          ...(opts.lookup ? { lookup: opts.lookup } : {}),
        },
        (res) => {
          if (res.statusCode === 404) {
            res.resume();
            return resolve(undefined);
          }
          if (res.statusCode !== 200) {
            res.resume();
            return reject(new Error(`MTA-STS policy of ${domain}: HTTP ${res.statusCode}`));
          }
          if (!/^text\/plain\b/i.test(res.headers['content-type'] ?? '')) {
            res.resume();
            return reject(new Error(`MTA-STS policy of ${domain}: content type ${res.headers['content-type'] ?? 'missing'}`));
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > 65536) req.destroy(new Error(`MTA-STS policy of ${domain} is larger than 64 KiB`));
            else chunks.push(c);
          });
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`MTA-STS policy of ${domain}: timed out`)));
      req.on('error', (err: NodeJS.ErrnoException) => (NONE(err.code) ? resolve(undefined) : reject(err)));
      req.end();
    });
}
