import type { AutomationRule } from './actions.ts';
import type { Adaptive, Knobs } from './knobs.ts';
import type { DomainRule, ProviderRule, ShapingRules } from './rules.ts';

/** What the layers say for one (sending IP, site, recipient domain). */
export interface Resolved {
  /** Provider whose suffix matched an MX host (longest suffix wins), if any. */
  provider?: string;
  /** The domain rule that applied, if any: it gives the domain a lane of its own. */
  domainRule?: string;
  knobs: Knobs;
  /** The TLS policy a layer sets explicitly (handed to the sender as Delivery.tls); undefined: the sender's default. */
  tls?: Knobs['tls'];
  adaptive: Adaptive;
  automation: AutomationRule[];
  warmup: number[];
  /** Layers applied, in order, for the operator surface. */
  layers: string[];
}

/** A suffix matches a host below it (".google.com" ⇒ "aspmx.l.google.com"); a bare name matches itself. */
export function suffixMatches(suffix: string, host: string): boolean {
  return suffix.startsWith('.') ? host.endsWith(suffix) : host === suffix;
}

/** The provider of a site: the one with the longest suffix matching any of its MX hosts. */
export function providerOf(rules: Pick<ShapingRules, 'providers'>, mxHosts: readonly string[]): ProviderRule | undefined {
  let best: { p: ProviderRule; len: number } | undefined;
  for (const p of rules.providers) {
    for (const s of p.match) {
      if (mxHosts.some((h) => suffixMatches(s, h.toLowerCase())) && (!best || s.length > best.len)) best = { p, len: s.length };
    }
  }
  return best?.p;
}

/** The domain rule for a recipient domain: exact name, else the longest ".suffix". */
export function domainRuleOf(rules: Pick<ShapingRules, 'domains'>, domain: string): DomainRule | undefined {
  const d = domain.toLowerCase();
  const exact = rules.domains.find((r) => r.name === d);
  if (exact) return exact;
  let best: DomainRule | undefined;
  for (const r of rules.domains) if (r.name.startsWith('.') && d.endsWith(r.name) && (!best || r.name.length > best.name.length)) best = r;
  return best;
}

/** Layers: defaults → provider (MX suffix) → domain → sending IP (→ that IP's provider entry). */
export function resolve(rules: ShapingRules, q: { domain: string; mxHosts: readonly string[]; sourceIp?: string | undefined }): Resolved {
  const layers = ['defaults'];
  let knobs: Knobs = { ...rules.defaults };
  let tls = rules.tlsInDefaults ? rules.defaults.tls : undefined;
  const layer = (k: Partial<Knobs>) => {
    knobs = { ...knobs, ...k };
    if (k.tls !== undefined) tls = k.tls;
  };
  let adaptive: Adaptive = { ...rules.adaptive };
  let automation = [...rules.automation];
  let warmup = rules.warmup;
  const provider = providerOf(rules, q.mxHosts);
  if (provider) {
    layers.push(`provider ${provider.name}`);
    layer(provider.knobs);
    adaptive = { ...adaptive, ...provider.adaptive };
    automation = [...provider.automation, ...automation];
    if (provider.warmup) warmup = provider.warmup;
  }
  const domainRule = domainRuleOf(rules, q.domain);
  if (domainRule) {
    layers.push(`domain ${domainRule.name}`);
    layer(domainRule.knobs);
  }
  const ip = q.sourceIp === undefined ? undefined : rules.sourceIps.get(q.sourceIp);
  if (ip) {
    layers.push(`sourceIp ${ip.ip}`);
    layer(ip.knobs);
    const perProvider = provider ? ip.providers.get(provider.name) : undefined;
    if (perProvider) {
      layers.push(`sourceIp ${ip.ip} provider ${provider!.name}`);
      layer(perProvider);
    }
  }
  // A connection rate caps the message rate: each connection carries messagesPerConnection.
  const connCap = knobs.connectionsPerSecond * knobs.messagesPerConnection;
  if (knobs.messagesPerSecond > connCap) knobs = { ...knobs, messagesPerSecond: connCap };
  return {
    ...(provider ? { provider: provider.name } : {}),
    ...(domainRule ? { domainRule: domainRule.name } : {}),
    knobs,
    ...(tls !== undefined ? { tls } : {}),
    adaptive: { ...adaptive, maxRate: Math.min(adaptive.maxRate, connCap) },
    automation,
    warmup,
    layers,
  };
}
