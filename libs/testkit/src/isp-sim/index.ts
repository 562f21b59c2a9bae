import { createServer } from 'node:net';
import { startDns, type FakeDns, type ZoneEntry } from '../dns.ts';
import { bucketDepth, defaultProfiles, timeScaled, type ProviderProfile } from './profiles.ts';
import { startProvider, type ProviderStats, type SimProvider } from './provider.ts';

export * from './profiles.ts';
export * from './provider.ts';

export interface IspSim {
  /** For MTA_DNS_SERVER. */
  dnsServer: string;
  /** For MTA_SMTP_PORT: every provider listens on it, each on its own loopback address. */
  smtpPort: number;
  providers: SimProvider[];
  /** Time compression of this run (`timeScaled`). */
  timeScale: number;
  providerOf(domain: string): ProviderProfile | undefined;
  /** Lower bound of the time to deliver `counts` (recipients per provider, by kind) given each provider's limits per sending IP. */
  theoreticalMinSeconds(counts: Map<string, RecipientCounts>, sendingIps?: number): number;
  totals(): ProviderStats & { byProvider: Record<string, ProviderStats> };
  close(): Promise<void>;
}

export interface RecipientCounts {
  normal: number;
  grey: number;
  full: number;
  unknown: number;
}

async function portFreeOn(ips: string[], port: number): Promise<boolean> {
  for (const ip of ips) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, ip, () => s.close(() => resolve(true)));
    });
    if (!ok) return false;
  }
  return true;
}

/**
 * The ISP simulator: a real DNS server (MX and A records of every provider's domains and hosts)
 * and one SMTP server per provider on its own 127.0.0.x address, all on one port. `timeScale`
 * compresses time (`timeScaled`: abuse windows, blocks, greylisting divided by it; rates, counts
 * and bucket depths unchanged; default 1: real time).
 */
export async function startIspSim(opts: { profiles?: ProviderProfile[]; port?: number; timeScale?: number } = {}): Promise<IspSim> {
  const timeScale = opts.timeScale ?? 1;
  const profiles = (opts.profiles ?? defaultProfiles()).map((p) => timeScaled(p, timeScale));
  const zone: Record<string, ZoneEntry> = {};
  for (const p of profiles) {
    for (const d of p.domains) zone[d] = { mx: p.mxHosts.map((exchange, i) => ({ exchange, priority: 5 + i * 5 })) };
    for (const h of p.mxHosts) zone[h] = { a: [p.ip] };
  }
  const ips = profiles.map((p) => p.ip);
  let port = opts.port;
  for (let i = 0; port === undefined && i < 50; i++) {
    const candidate = 20000 + Math.floor(Math.random() * 30000);
    if (await portFreeOn(ips, candidate)) port = candidate;
  }
  if (port === undefined) throw new Error('no port free on every simulator address');
  const dns: FakeDns = await startDns(zone);
  const providers: SimProvider[] = [];
  try {
    for (const p of profiles) providers.push(await startProvider(p, port));
  } catch (err) {
    await Promise.all(providers.map((p) => p.close()));
    await dns.close();
    throw err;
  }
  const byDomain = new Map(profiles.flatMap((p) => p.domains.map((d) => [d, p] as const)));
  return {
    dnsServer: dns.server,
    smtpPort: port,
    providers,
    timeScale,
    providerOf: (d) => byDomain.get(d.toLowerCase()),
    theoreticalMinSeconds(counts, sendingIps = 1) {
      // Providers work in parallel: the campaign takes as long as its slowest provider. For one
      // provider, T recipients need a message token each (and connections to carry them): the
      // T-th token of a bucket that starts full (depth B) and refills at r exists at (T - B) / r
      // at the earliest, for the message bucket and for the connection bucket (each connection
      // carries at most messagesPerConnection). A greylisted recipient's accepted try comes at
      // least greylistS after its first.
      let worst = 0;
      for (const p of profiles) {
        const c = counts.get(p.name);
        if (!c) continue;
        const L = p.limits;
        // Recipients that take a rate token: every accepted one, plus the first (deferred) try of greylisted and full ones.
        const tokens = c.normal + 2 * c.grey + 2 * c.full;
        const byMessages = Math.max(0, tokens - bucketDepth(L.messagesPerSecond, L.burstS) * sendingIps) / (L.messagesPerSecond * sendingIps);
        const connections = Math.ceil(tokens / L.messagesPerConnection);
        const byConnections = Math.max(0, connections - bucketDepth(L.connectionsPerSecond, L.connectionBurstS) * sendingIps) / (L.connectionsPerSecond * sendingIps);
        const seconds = Math.max(byMessages, byConnections);
        worst = Math.max(worst, c.grey > 0 ? Math.max(seconds, p.greylistS) : seconds);
      }
      return worst;
    },
    totals() {
      const sum: ProviderStats = { delivered: 0, deferred: { rate: 0, connections: 0, perConnection: 0, block: 0, greylist: 0, mailboxFull: 0 }, unknownUser: 0, connections: 0, peakConnections: 0, blocks: 0, peers: [] };
      const byProvider: Record<string, ProviderStats> = {};
      for (const p of providers) {
        const s = p.stats;
        byProvider[p.profile.name] = s;
        sum.delivered += s.delivered;
        for (const k of Object.keys(sum.deferred) as (keyof ProviderStats['deferred'])[]) sum.deferred[k] += s.deferred[k];
        sum.unknownUser += s.unknownUser;
        sum.connections += s.connections;
        sum.peakConnections += s.peakConnections;
        sum.blocks += s.blocks;
      }
      return { ...sum, byProvider };
    },
    async close() {
      await Promise.all(providers.map((p) => p.close()));
      await dns.close();
    },
  };
}
