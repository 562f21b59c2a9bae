import type { Attempt, Delivery } from '@mta/contracts';
import { SeenWindow, type Handler } from '@mta/kafka';
import type { SenderConfig } from './config.ts';
import { createDeliver, type DeliverDeps } from './deliver.ts';
import { createSenderHandler } from './handler.ts';
import { createHostMemory } from './host-memory.ts';
import { createDkimSigner } from './dkim.ts';
import { createDnsResolver, createMxLookup, type DnsResolverLike, type MxLookup } from './mx.ts';
import { createMtaSts, httpsStsFetcher, type MtaSts, type StsFetcher } from './mta-sts.ts';
import type { CommandObserver } from './smtp-commands.ts';
import { TransportCache } from './transports.ts';

export interface Sender {
  deliver: (d: Delivery) => Promise<Attempt>;
  handler: Handler;
  mx: MxLookup;
  transports: TransportCache;
  /** Closes every SMTP pool (call after the stage stopped, so in-flight deliveries finished). */
  close(timeoutMs?: number): Promise<void>;
}

export interface BuildSenderOptions {
  topics: { attempts: string; deadLetter: string };
  /** Default: a real resolver on `config.dnsServer` (or the system's). */
  resolver?: DnsResolverLike;
  onAttempt?: (a: Attempt) => void;
  onDuplicate?: (d: Delivery) => void;
  /** Told about problems that do not stop a delivery (an unusable DKIM key file, a signing failure). */
  onWarning?: (message: string) => void;
  /** MTA-STS policy fetcher (default: HTTPS to mta-sts.<domain>). */
  stsFetcher?: StsFetcher;
  /** Trusted CAs for MTA-STS-verified SMTP sessions (default: the system's, plus NODE_EXTRA_CA_CERTS). */
  tlsCa?: string | Buffer;
  /** Spans and latency of the DNS and SMTP steps of each attempt (see `DeliverDeps.step`). */
  step?: DeliverDeps['step'];
  /** Told about each SMTP command of each message (per-command spans and latencies). */
  observer?: CommandObserver;
}

/** Everything main.ts needs, built once from the loaded configuration. */
export function buildSender(config: SenderConfig, opts: BuildSenderOptions): Sender {
  const resolver = opts.resolver ?? createDnsResolver({ server: config.dnsServer, timeoutMs: config.dnsTimeoutMs, tries: config.dnsTries });
  const mx = createMxLookup({
    resolver,
    mxTtlMs: config.mxCacheTtlS * 1000,
    negativeTtlMs: config.dnsNegativeTtlS * 1000,
    errorTtlMs: config.dnsErrorTtlS * 1000,
  });
  let mtaSts: MtaSts | undefined;
  if (config.mtaSts && resolver.resolveTxt) {
    mtaSts = createMtaSts({ resolveTxt: (n) => resolver.resolveTxt!(n), fetch: opts.stsFetcher ?? httpsStsFetcher({ timeoutMs: config.mtaStsTimeoutMs }) });
  }
  const warn = opts.onWarning ?? (() => undefined);
  const dkim = config.dkimDir
    ? createDkimSigner({
        dir: config.dkimDir,
        platformDomain: config.dkimPlatformDomain,
        refreshMs: config.dkimReloadS * 1000,
        onKeyError: (file, err) => warn(`DKIM key ${file} not used: ${err.message}`),
      })
    : undefined;
  const transports = new TransportCache({
    ehloName: config.ehloName,
    tls: config.smtpTls,
    ca: opts.tlsCa,
    connectionTimeoutMs: config.connectionTimeoutMs,
    greetingTimeoutMs: config.greetingTimeoutMs,
    socketTimeoutMs: config.socketTimeoutMs,
    messageTimeoutMs: config.messageTimeoutMs,
    idleCloseMs: config.transportIdleMs,
    observer: opts.observer,
  });
  const deliver = createDeliver({
    mx,
    transports,
    routes: config.routes,
    hostMemory: createHostMemory({ ttlMs: config.hostFailureMemoryMs }),
    smtpPort: config.smtpPort,
    idDomain: config.ehloName,
    maxHosts: config.maxMxHosts,
    bounceDomain: config.bounceDomain,
    dkim,
    onDkimError: (d, err) => warn(`DKIM signing of ${d.messageId} failed, sent unsigned: ${err.message}`),
    ipPools: config.ipPools,
    tlsPolicies: config.tlsPolicy,
    defaultTls: config.smtpTls === 'none' ? 'disabled' : config.smtpTls,
    mtaSts,
    ...(opts.step ? { step: opts.step } : {}),
  });
  const handler = createSenderHandler({
    deliver,
    topics: opts.topics,
    dedupe: new SeenWindow(config.dedupeSize, Infinity),
    ...(opts.onAttempt ? { onAttempt: opts.onAttempt } : {}),
    ...(opts.onDuplicate ? { onDuplicate: opts.onDuplicate } : {}),
  });
  return { deliver, handler, mx, transports, close: (t) => transports.closeAll(t) };
}
