import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { bool, int, ipPoolsKey, oneOf, optionalStr, type ConfigOf, type Key } from '@mta/config';
import { isDomainName, normalizeDomain, parseRoutes, type Routes } from './routes.ts';
import { parseTlsPolicies, type TlsPolicies } from './tls-policy.ts';

/** MTA_ROUTES, parsed into a route table; every bad element is reported in the error. */
export const routesKey = (env: string, description: string): Key<Routes | undefined> => ({
  env,
  description,
  optional: true,
  parse(raw) {
    if (raw.trim() === '') return undefined;
    const parsed = parseRoutes(raw);
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    return parsed.routes;
  },
});

/** A DNS server as node's Resolver.setServers takes it: `ip`, `ip:port` or `[ipv6]:port`. */
export function parseDnsServer(raw: string): string {
  const s = raw.trim();
  const m = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(s) ?? /^([0-9.]+)(?::(\d{1,5}))?$/.exec(s);
  const ip = m?.[1] ?? (isIP(s) === 6 ? s : undefined);
  if (ip === undefined || isIP(ip) === 0) throw new Error(`"${raw}" is not an IP address with an optional port (e.g. 127.0.0.1:53 or [::1]:53)`);
  const port = m?.[2];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) throw new Error(`port ${port} is out of range 1-65535`);
  return s;
}

const dnsServerKey = (env: string, description: string): Key<string | undefined> => ({
  env,
  description,
  optional: true,
  parse: (raw) => (raw.trim() === '' ? undefined : parseDnsServer(raw)),
});

/** MTA_TLS_POLICY, parsed; every bad element is reported. */
const tlsPolicyKey = (env: string, description: string): Key<TlsPolicies | undefined> => ({
  env,
  description,
  optional: true,
  parse(raw) {
    if (raw.trim() === '') return undefined;
    const r = parseTlsPolicies(raw);
    if (!r.ok) throw new Error(r.errors.join('; '));
    return r.policies;
  },
});

/** An optional domain name (lower-cased). */
const domainKey = (env: string, description: string): Key<string | undefined> => ({
  env,
  description,
  optional: true,
  parse(raw) {
    if (raw.trim() === '') return undefined;
    const d = normalizeDomain(raw);
    if (!isDomainName(d)) throw new Error(`"${raw}" is not a domain name`);
    return d;
  },
});

const ehloKey = (env: string, description: string, def: string): Key<string> => ({
  env,
  description,
  default: def,
  parse(raw) {
    const name = normalizeDomain(raw);
    const literal = /^\[(?:IPv6:)?([^\]]+)\]$/i.exec(name);
    if (literal ? isIP(literal[1]!) === 0 : !isDomainName(name, true)) {
      throw new Error(`must be a fully qualified host name or an address literal like [192.0.2.1], got "${raw}"`);
    }
    return name;
  },
});

/** The sender's own keys (merge them with `commonKeys('sender', port)` for the whole service). */
export const senderKeys = {
  routes: routesKey(
    'MTA_ROUTES',
    'Static routes before MX, Postfix transport style: domain=host[:port],.parent.domain=[ipv6]:port,*=host:port (unset = MX only).',
  ),
  dnsServer: dnsServerKey('MTA_DNS_SERVER', 'DNS server for MX/A/AAAA lookups, ip[:port] (unset = the system resolvers).'),
  dnsTimeoutMs: int('MTA_DNS_TIMEOUT_MS', 'Timeout of one DNS query try.', 5000, 100, 60_000),
  dnsTries: int('MTA_DNS_TRIES', 'Tries per DNS query before it counts as a (transient) failure.', 2, 1, 10),
  mxCacheTtlS: int('MTA_MX_CACHE_TTL_S', 'How long MX answers are cached (node gives no MX TTL); A/AAAA answers use their own TTL.', 300, 0, 86_400),
  dnsNegativeTtlS: int('MTA_DNS_NEGATIVE_TTL_S', 'How long NXDOMAIN / null MX / no-mail-host answers are cached.', 60, 0, 86_400),
  dnsErrorTtlS: int('MTA_DNS_ERROR_TTL_S', 'How long a SERVFAIL/timeout is cached, so a burst for a broken domain asks DNS once.', 5, 0, 3600),
  ehloName: ehloKey('MTA_EHLO_NAME', 'Name sent with EHLO (should match the sending IP\'s PTR).', hostname()),
  smtpPort: int('MTA_SMTP_PORT', 'Port of MX hosts (25; other values are for tests).', 25, 1, 65535),
  smtpTls: oneOf(
    'MTA_SMTP_TLS',
    'Default TLS for domains MTA_TLS_POLICY does not name. opportunistic: STARTTLS when offered, certificate not verified, plain text if it fails; required: STARTTLS must succeed (certificate not verified); none: never STARTTLS.',
    ['opportunistic', 'required', 'none'] as const,
    'opportunistic',
  ),
  tlsPolicy: tlsPolicyKey('MTA_TLS_POLICY', 'Per-domain TLS: domain=required|opportunistic|disabled, .parent=... for subdomains, comma-separated (e.g. gmail.com=required,.example.org=disabled).'),
  mtaSts: bool('MTA_MTA_STS', 'Look up MTA-STS policies and enforce those in mode enforce (verified certificate, MX host listed).', true),
  mtaStsTimeoutMs: int('MTA_MTA_STS_TIMEOUT_MS', 'Timeout of one MTA-STS policy fetch over HTTPS.', 10_000, 100, 60_000),
  ipPools: ipPoolsKey('MTA_IP_POOLS', 'Source address pools: pool=ip[/ehlo],ip[/ehlo];pool2=... (unset = the OS picks the address). Requests name a pool with ipPool, else "default".', () => process.env.MTA_EHLO_NAME || hostname()),
  bounceDomain: domainKey('MTA_BOUNCE_DOMAIN', 'Domain of VERP envelope senders (b-<base64url(messageId)>@domain); unset = the request\'s mailFrom is used as it is.'),
  dkimDir: optionalStr('MTA_DKIM_DIR', 'DKIM keys: <dir>/<domain>/<selector>.pem (RSA or Ed25519, PEM). Unset = no signing.'),
  dkimPlatformDomain: domainKey('MTA_DKIM_PLATFORM_DOMAIN', 'Also sign every message for this domain (keys under MTA_DKIM_DIR/<domain>/).'),
  dkimReloadS: int('MTA_DKIM_RELOAD_S', 'A domain\'s key directory is looked at again (new, replaced, removed keys) at most this often.', 60, 0, 86_400),
  connectionTimeoutMs: int('MTA_SMTP_CONNECTION_TIMEOUT_MS', 'Time to establish a TCP connection to a mail host.', 30_000, 100),
  greetingTimeoutMs: int('MTA_SMTP_GREETING_TIMEOUT_MS', 'Time to wait for the 220 greeting once connected.', 30_000, 100),
  socketTimeoutMs: int('MTA_SMTP_SOCKET_TIMEOUT_MS', 'Inactivity time after which an SMTP connection is dropped.', 120_000, 100),
  messageTimeoutMs: int('MTA_SMTP_MESSAGE_TIMEOUT_MS', 'Deadline of one message on its connection, DATA included (0 = none): bounds peers that trickle.', 600_000, 0),
  transportIdleMs: int('MTA_SMTP_IDLE_CLOSE_MS', 'Idle time after which a pooled connection, and an unused destination pool, are closed.', 60_000, 1000),
  hostFailureMemoryMs: int('MTA_HOST_FAILURE_MEMORY_MS', 'How long a host that refused or timed out a connection is skipped (0 = never).', 30_000, 0),
  maxMxHosts: int('MTA_MAX_MX_HOSTS', 'Most MX hosts tried for one attempt before it fails (transiently).', 5, 1, 20),
  maxInFlight: int('MTA_SENDER_MAX_IN_FLIGHT', 'Deliveries handled at once by this instance (the stage waits beyond).', 2000, 1),
  dedupeSize: int('MTA_SENDER_DEDUPE_SIZE', 'Delivered messageId:attempt keys remembered to skip replayed records.', 100_000, 0),
};

export type SenderConfig = ConfigOf<typeof senderKeys>;
