import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { commonKeys, int, ipPoolsKey, num, oneOf, optionalStr, type Key } from '@mta/config';
import { lintShapingRules, parseShapingRules, type LintFinding, type ShapingRules } from '@mta/shaping';

export const DEFAULT_RULES_FILE = fileURLToPath(new URL('../shaping.default.yaml', import.meta.url));

/** Reads and parses a shaping rule file; lint findings are returned (logged at start), errors throw. */
export function loadRulesFile(path: string): { path: string; rules: ShapingRules; lint: LintFinding[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot be read: ${(err as Error).message}`);
  }
  const parsed = parseShapingRules(text);
  if (!parsed.ok) throw new Error(`has errors: ${parsed.errors.join('; ')}`);
  return { path, rules: parsed.rules, lint: lintShapingRules(parsed.rules) };
}

const rulesFile: Key<ReturnType<typeof loadRulesFile>> = {
  env: 'MTA_THROTTLE_RULES',
  description: 'YAML shaping rules: defaults, providers (MX suffixes), domains, sourceIps, automation, adaptive, ratios, warmup (docs/shaping.md).',
  default: DEFAULT_RULES_FILE,
  parse: loadRulesFile,
};

export const throttleKeys = {
  ...commonKeys('throttle', 8082),
  rules: rulesFile,
  maxInFlight: int('MTA_MAX_IN_FLIGHT', 'Messages held waiting for their lane\'s token before consumption waits (bounds memory).', 50000, 1),
  maxInFlightPerLane: int('MTA_MAX_IN_FLIGHT_PER_DOMAIN', 'Messages of one recipient domain (one site with MTA_THROTTLE_OWNERSHIP=site) held at once; more wait in memory while fewer than MTA_MAX_IN_FLIGHT are held, else go back to the end of the queue topic: a slow domain never stops the others.', 5000, 1),
  dnsServer: optionalStr('MTA_DNS_SERVER', 'DNS server for MX lookups (site of a domain), ip[:port] (unset = the system resolvers).'),
  siteBy: oneOf('MTA_THROTTLE_SITE', 'What a lane\'s site is: mx = the set of MX hosts (MX rollup, provider rules); domain = the recipient domain (no DNS lookups).', ['mx', 'domain'] as const, 'mx'),
  mxCacheTtlS: int('MTA_MX_CACHE_TTL_S', 'How long a domain\'s MX answer (its site) is cached.', 300, 0, 86_400),
  ipPools: ipPoolsKey('MTA_IP_POOLS', 'Source IP pools the throttle chooses from: pool=ip[/ehlo],...;pool2=... (unset = the OS picks).', () => hostname()),
  windowS: num('MTA_THROTTLE_WINDOW_S', 'In-flight window per lane, in seconds of its rate: released messages not yet seen back as attempts (0 = off).', 3, 0, 3600),
  ownership: oneOf(
    'MTA_THROTTLE_OWNERSHIP',
    "Who owns a lane with several throttle instances: domain = mta.queue's partitioning (a site's domains may be on several instances, each applying the site's full limit); site = a hop through mta.queue.site keyed by site, so one instance owns each site and its limits hold across instances (docs/shaping.md §5).",
    ['domain', 'site'] as const,
    'domain',
  ),
  adminToken: optionalStr('MTA_ADMIN_TOKEN', 'Bearer token for operator changes (suspend/resume); unset = changes refused.'),
};
