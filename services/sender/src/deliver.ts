import { isIP } from 'node:net';
import type { Attempt, Delivery, SmtpReply } from '@mta/contracts';
import type { SendMailOptions, SMTPPoolSentMessageInfo } from 'nodemailer';
import { compose } from './compose.ts';
import type { HostMemory } from './host-memory.ts';
import { rotateEqualPreference, type DnsFailure } from './mx-decide.ts';
import type { MxLookup } from './mx.ts';
import { DEFAULT_SMTP_PORT, hostPort, routeFor, type Routes } from './routes.ts';
import { failureReply, judgeTransportError, successReply, toSendError, type SendError } from './smtp-result.ts';
import type { TransportTarget } from './transports.ts';

export interface DeliverDeps {
  mx: MxLookup;
  transports: { send(target: TransportTarget, message: SendMailOptions): Promise<SMTPPoolSentMessageInfo> };
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
}

export type Deliver = (d: Delivery) => Promise<Attempt>;

/** A candidate mail host in the order it is tried. */
interface Hop {
  name: string;
  port: number;
  /** Resolve `name` through the MX lookup's DNS (MX targets); false = hand the name to the socket (static routes). */
  resolve: boolean;
}

type Target = { ok: true; hops: Hop[]; site: string; via: 'mx' | 'implicit-mx' | 'route' } | DnsFailure;

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
 */
export function createDeliver(deps: DeliverDeps): Deliver {
  const now = deps.now ?? Date.now;
  const smtpPort = deps.smtpPort ?? DEFAULT_SMTP_PORT;
  const maxHosts = deps.maxHosts ?? 5;
  const maxAddresses = deps.maxAddressesPerHost ?? 2;
  const composeOpts = { idDomain: deps.idDomain };
  let rotation = 0;

  async function target(domain: string): Promise<Target> {
    const route = deps.routes ? routeFor(domain, deps.routes) : undefined;
    if (route) return { ok: true, hops: [{ name: route.host, port: route.port, resolve: false }], site: hostPort(route.host, route.port), via: 'route' };
    const mx = await deps.mx.mx(domain);
    if (!mx.ok) return mx;
    const hosts = mx.hosts.length > 1 ? rotateEqualPreference(mx.hosts, rotation++) : mx.hosts;
    return { ok: true, hops: hosts.slice(0, maxHosts).map((h) => ({ name: h.name, port: smtpPort, resolve: isIP(h.name) === 0 })), site: mx.site, via: mx.via };
  }

  return async function deliver(d: Delivery): Promise<Attempt> {
    const startedAt = new Date(now()).toISOString();
    const base = {
      v: 1 as const,
      messageId: d.messageId,
      deliveryId: d.deliveryId,
      ...(d.tenant !== undefined ? { tenant: d.tenant } : {}),
      recipient: d.to,
      recipientDomain: d.recipientDomain,
      attempt: d.attempt,
      acceptedAt: d.acceptedAt,
      validUntil: d.validUntil,
      startedAt,
    };
    const finished = () => new Date(now()).toISOString();

    const t = await target(d.recipientDomain);
    if (!t.ok) {
      const { error, smtp } = dnsError(t);
      return { ...base, finishedAt: finished(), outcome: 'failed', smtp, error };
    }

    const message = compose(d, composeOpts);
    const limits = d.limits;
    let last: { error: SendError; smtp: SmtpReply; hop: Hop } | undefined;

    for (const hop of t.hops) {
      const mx = hostPort(hop.name, hop.port);
      const route = { site: t.site, host: hop.name, port: hop.port, via: t.via };
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
        const key = hostPort(address, hop.port);
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
        };
        try {
          const info = await deps.transports.send(target, message);
          return { ...base, finishedAt: finished(), outcome: 'delivered', smtp: successReply(info.response, mx), route };
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
      route: { site: t.site, host: hop.name, port: hop.port, via: t.via },
    };
  };
}
