import { attemptBase } from './expired.ts';
import { isAscii } from 'node:buffer';
import { isIP } from 'node:net';
import type { IpPools } from '@mta/config';
import type { Attempt, Delivery, SmtpReply } from '@mta/contracts';
import { compose, messageBytes } from './compose.ts';
import type { DkimSign } from './dkim.ts';
import type { HostMemory } from './host-memory.ts';
import { rotateEqualPreference, type DnsFailure } from './mx-decide.ts';
import type { MxLookup } from './mx.ts';
import { DEFAULT_SMTP_PORT, hostPort, routeFor, type Routes } from './routes.ts';
import { failureReply, judgeTransportError, successReply, toSendError, type SendError } from './smtp-result.ts';
import { chooseSource } from './source-ip.ts';
import { configuredTls, deliveryTls, type ConfiguredTls, type TlsMode, type TlsPolicies } from './tls-policy.ts';
import type { MtaSts, StsPolicy } from './mta-sts.ts';
import type { PoolMessage, SendInfo, TransportTarget } from './transports.ts';

export interface DeliverDeps {
  mx: MxLookup;
  transports: {
    send(target: TransportTarget, message: PoolMessage): Promise<SendInfo>;
    /** For envelopes with non-ASCII addresses (absent: they go through `send`). */
    sendRequiringSmtpUtf8?(target: TransportTarget, message: PoolMessage): Promise<SendInfo>;
  };
  /** Static routes, consulted before MX. */
  routes?: Routes | undefined;
  /** Hosts that recently failed to connect; absent = no memory. */
  hostMemory?: HostMemory | undefined;
  /** Port of MX hosts. Default 25 (tests point it at a loopback listener). */
  smtpPort?: number;
  /** Domain of generated Message-IDs for a null envelope sender. */
  idDomain: string;
  /** Most MX hosts tried for one attempt. Default 5. */
  maxHosts?: number;
  /** Most addresses tried per host. Default 2. */
  maxAddressesPerHost?: number;
  now?: () => number;
  /** MTA_BOUNCE_DOMAIN: envelope senders become VERP addresses there. */
  bounceDomain?: string | undefined;
  /** DKIM signer (absent: messages go unsigned). */
  dkim?: DkimSign | undefined;
  /** Told when signing fails; the message then goes unsigned. */
  onDkimError?: (d: Delivery, err: Error) => void;
  /** MTA_IP_POOLS (absent: the OS picks the source address). */
  ipPools?: IpPools | undefined;
  /** MTA_TLS_POLICY and the default mode for other domains. */
  tlsPolicies?: TlsPolicies | undefined;
  defaultTls?: ConfiguredTls;
  /** MTA-STS policies (absent: not looked up). */
  mtaSts?: MtaSts | undefined;
  /**
   * Runs one step of the attempt (`dns`: MX/MTA-STS lookups; `send`: handing the message to one
   * host's pool until its final reply) inside a span and a latency histogram (libs/telemetry
   * `smtpTelemetry().phase`). The pool reports each SMTP command of the message as a child of
   * the `send` span (`TransportCacheOptions.observer`). Absent: the step just runs.
   */
  step?: <T>(phase: 'dns' | 'send', site: string, fn: () => Promise<T>, attributes?: Record<string, string>) => Promise<T>;
}

export type Deliver = (d: Delivery) => Promise<Attempt>;

/** A candidate mail host in the order it is tried. */
interface Hop {
  name: string;
  port: number;
  /** Resolve `name` through the MX lookup's DNS (MX targets); false = hand the name to the socket (static routes). */
  resolve: boolean;
}

type Target = { ok: true; hops: Hop[]; site: string; via: 'mx' | 'implicit-mx' | 'route'; tls: TlsMode; sts?: StsPolicy } | DnsFailure;

/** Synthetic reply for a permanent DNS answer, so a classifier sees a permanent failure. */
function dnsReply(f: DnsFailure): { code: number; enhanced: string } | undefined {
  if (!f.permanent) return undefined;
  // RFC 7505 §4.2: a null MX is reported as 556 5.1.10; a domain that does not exist as 550 5.1.2.
  return f.kind === 'null-mx' ? { code: 556, enhanced: '5.1.10' } : { code: 550, enhanced: '5.1.2' };
}

/** The EDNS error of a DNS failure: permanent ones carry a synthetic 5xx reply, transient ones none. */
export function dnsError(f: DnsFailure): { error: SendError; smtp: SmtpReply } {
  const r = dnsReply(f);
  if (!r) return { error: { code: 'EDNS', message: f.message, command: 'DNS' }, smtp: { command: 'DNS' } };
  const response = `${r.code} ${r.enhanced} ${f.message}`;
  return {
    error: { code: 'EDNS', message: f.message, responseCode: r.code, response, command: 'DNS' },
    smtp: { code: r.code, enhancedCode: r.enhanced, response, command: 'DNS' },
  };
}

/**
 * `createDeliver(deps)(delivery)` makes one delivery attempt and describes it as an `Attempt`;
 * it never throws for a delivery problem.
 *
 * Target: the static route for the recipient domain if one matches, else the domain's MX hosts
 * in preference order (equal preferences rotated per message), else its implicit MX. Each host
 * is tried in turn while the failure is about the host (connection refused/timed out/dropped,
 * TLS, bad greeting, 421); a reply about the message (4xx/5xx to MAIL, RCPT, DATA) ends the
 * attempt. Hosts that failed to connect are remembered for a while and skipped without dialling.
 *
 * The message is composed and DKIM-signed once per attempt; it leaves from the source address
 * of its IP pool (`source-ip.ts`) in the TLS mode of its domain (`tls-policy.ts`), MTA-STS
 * `enforce` policies skipping MX hosts they do not list. See docs/sender.md.
 */
export function createDeliver(deps: DeliverDeps): Deliver {
  const now = deps.now ?? Date.now;
  const smtpPort = deps.smtpPort ?? DEFAULT_SMTP_PORT;
  const maxHosts = deps.maxHosts ?? 5;
  const maxAddresses = deps.maxAddressesPerHost ?? 2;
  const composeOpts = { idDomain: deps.idDomain, bounceDomain: deps.bounceDomain };
  const defaultTls = deps.defaultTls ?? 'opportunistic';
  let rotation = 0;
  const step = deps.step ?? (<T>(_p: string, _s: string, fn: () => Promise<T>) => fn());

  async function target(domain: string, requested?: ConfiguredTls): Promise<Target> {
    const explicit = configuredTls(domain, deps.tlsPolicies);
    const route = deps.routes ? routeFor(domain, deps.routes) : undefined;
    if (route) {
      return { ok: true, hops: [{ name: route.host, port: route.port, resolve: false }], site: hostPort(route.host, route.port), via: 'route', tls: deliveryTls(explicit, requested, defaultTls, false) };
    }
    const [mx, sts] = await Promise.all([deps.mx.mx(domain), deps.mtaSts && explicit !== 'disabled' ? deps.mtaSts.policy(domain) : undefined]);
    if (!mx.ok) return mx;
    const enforce = sts?.policy?.mode === 'enforce' ? sts.policy : undefined;
    const hosts = mx.hosts.length > 1 ? rotateEqualPreference(mx.hosts, rotation++) : mx.hosts;
    return {
      ok: true,
      hops: hosts.slice(0, maxHosts).map((h) => ({ name: h.name, port: smtpPort, resolve: isIP(h.name) === 0 })),
      site: mx.site,
      via: mx.via,
      tls: deliveryTls(explicit, requested, defaultTls, enforce !== undefined),
      ...(enforce ? { sts: enforce } : {}),
    };
  }

  /** The bytes to send: composed once, DKIM-signed, with the envelope nodemailer needs. */
  async function assemble(d: Delivery): Promise<{ message: PoolMessage; smtpUtf8: boolean }> {
    const composed = compose(d, composeOpts);
    let raw = await messageBytes(composed);
    if (deps.dkim) {
      try {
        const sigs = await deps.dkim(raw);
        if (sigs) raw = Buffer.concat([Buffer.from(sigs, 'latin1'), raw]);
      } catch (err) {
        deps.onDkimError?.(d, err as Error);
      }
    }
    const { from, to } = composed.envelope;
    return {
      message: { envelope: { from, to, use8BitMime: !isAscii(raw) }, raw },
      smtpUtf8: !isAscii(Buffer.from(from + to.join(''), 'utf8')),
    };
  }

  return async function deliver(d: Delivery): Promise<Attempt> {
    const startedAt = new Date(now()).toISOString();
    const base = attemptBase(d, startedAt);
    const finished = () => new Date(now()).toISOString();

    const t = await step('dns', 'dns', () => target(d.recipientDomain, d.tls), { 'mta.domain': d.recipientDomain });
    if (!t.ok) {
      const { error, smtp } = dnsError(t);
      return { ...base, finishedAt: finished(), outcome: 'failed', smtp, error };
    }

    const { message: assembled, smtpUtf8 } = await assemble(d);
    // Not sent if its validity ends while it waits in a pool's queue for a connection (EEXPIRED).
    const message: PoolMessage = { ...assembled, site: t.site, notAfter: Date.parse(d.validUntil) };
    const limits = d.limits;
    const source = chooseSource(deps.ipPools, d);
    const from = source ? { sourceIp: source.ip, ipPool: source.pool } : {};
    let last: { error: SendError; smtp: SmtpReply; hop: Hop } | undefined;

    for (const hop of t.hops) {
      const mx = hostPort(hop.name, hop.port);
      const route = { site: t.site, host: hop.name, port: hop.port, via: t.via, ...from };
      if (t.sts && !deps.mtaSts!.allows(t.sts, hop.name)) {
        // RFC 8461 §5: an MX host the enforced policy does not list is not used.
        const error: SendError = { code: 'ETLS', message: `MTA-STS: ${hop.name} is not an MX host allowed by ${d.recipientDomain}'s policy`, command: 'CONN' };
        last = { error, smtp: failureReply(error, mx), hop };
        continue;
      }
      let addresses: string[] = [hop.name];
      if (hop.resolve) {
        const a = await deps.mx.addresses(hop.name);
        if (!a.ok) {
          last = { ...dnsError(a), hop };
          continue;
        }
        addresses = a.addresses.slice(0, maxAddresses);
      }
      for (const address of addresses) {
        const key = (source ? `${source.ip}>` : '') + hostPort(address, hop.port);
        const remembered = deps.hostMemory?.recall(key);
        if (remembered !== undefined) {
          const error: SendError = { code: 'ECONNECTION', message: `not dialling ${mx} (${key}): it failed recently: ${remembered}`, command: 'CONN' };
          last = { error, smtp: failureReply(error, mx), hop };
          continue;
        }
        const target: TransportTarget = {
          host: address,
          port: hop.port,
          servername: hop.resolve ? hop.name : undefined,
          maxConnections: limits.maxConnections,
          maxMessages: limits.messagesPerConnection,
          tls: t.tls,
          localAddress: source?.ip,
          ehloName: source?.ehlo,
        };
        try {
          const info = await step(
            'send',
            t.site,
            () => (smtpUtf8 && deps.transports.sendRequiringSmtpUtf8 ? deps.transports.sendRequiringSmtpUtf8(target, message) : deps.transports.send(target, message)),
            { 'net.peer.name': hop.name, 'net.peer.port': String(hop.port), ...(source ? { 'mta.source_ip': source.ip } : {}) },
          );
          const tls = info.tls ? { tls: { ...info.tls, policy: t.tls } } : {};
          return { ...base, finishedAt: finished(), outcome: 'delivered', smtp: successReply(info.response, mx), route, ...tls };
        } catch (err) {
          const full = toSendError(err);
          const verdict = judgeTransportError(full);
          if (verdict.remember) deps.hostMemory?.remember(key, full.message);
          const { originalCode: _o, timeoutType: _t, ...error } = full;
          if (!verdict.failover) return { ...base, finishedAt: finished(), outcome: 'failed', smtp: failureReply(error, mx), error, route };
          last = { error, smtp: failureReply(error, mx), hop };
        }
      }
    }
    // Every host failed over: report the last failure (always transient: a transport or DNS problem).
    const hop = last?.hop ?? t.hops[0]!;
    const error = last?.error ?? { code: 'ECONNECTION', message: 'no mail host to try', command: 'CONN' };
    return {
      ...base,
      finishedAt: finished(),
      outcome: 'failed',
      smtp: last?.smtp ?? { command: 'CONN' },
      error,
      route: { site: t.site, host: hop.name, port: hop.port, via: t.via, ...from },
    };
  };
}
