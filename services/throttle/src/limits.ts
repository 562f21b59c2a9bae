import { parse } from 'yaml';

export interface DomainLimits {
  messagesPerSecond: number;
  burst: number;
  maxConnections: number;
  messagesPerConnection: number;
}

export interface LimitRules {
  defaults: DomainLimits;
  exact: Map<string, DomainLimits>;
  /** Suffix rules (".example.com"), longest first. */
  suffixes: [string, DomainLimits][];
}

type Partial4 = Partial<Record<keyof DomainLimits, unknown>>;
const KNOBS: (keyof DomainLimits)[] = ['messagesPerSecond', 'burst', 'maxConnections', 'messagesPerConnection'];

/** Parses the rules file; every bad entry is reported with its domain and knob. */
export function parseLimitRules(text: string): { ok: true; rules: LimitRules } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    return { ok: false, errors: [`not valid YAML: ${(err as Error).message}`] };
  }
  if (typeof doc !== 'object' || doc === null) return { ok: false, errors: ['the file must be a mapping with "defaults" and "domains"'] };
  const root = doc as { defaults?: unknown; domains?: unknown };
  for (const k of Object.keys(root)) if (k !== 'defaults' && k !== 'domains') errors.push(`unknown top-level key "${k}" (expected defaults, domains)`);
  const base: DomainLimits = { messagesPerSecond: 500, burst: 0, maxConnections: 10, messagesPerConnection: 100 };
  const defaults = layer(base, root.defaults, 'defaults', errors);
  const exact = new Map<string, DomainLimits>();
  const suffixes: [string, DomainLimits][] = [];
  if (root.domains !== undefined && (typeof root.domains !== 'object' || root.domains === null)) errors.push('"domains" must be a mapping of domain → knobs');
  for (const [name, value] of Object.entries((root.domains as Record<string, unknown>) ?? {})) {
    const domain = name.toLowerCase();
    if (!/^\.?(?:[a-z0-9-]+\.)*[a-z0-9-]+$/.test(domain)) {
      errors.push(`domains."${name}": not a domain name (write ".example.com" for subdomains)`);
      continue;
    }
    const limits = layer(defaults, value, `domains."${name}"`, errors);
    if (domain.startsWith('.')) suffixes.push([domain, limits]);
    else exact.set(domain, limits);
  }
  suffixes.sort((a, b) => b[0].length - a[0].length);
  return errors.length ? { ok: false, errors } : { ok: true, rules: { defaults, exact, suffixes } };
}

function layer(base: DomainLimits, value: unknown, where: string, errors: string[]): DomainLimits {
  if (value === undefined || value === null) return withBurst({ ...base });
  if (typeof value !== 'object') {
    errors.push(`${where}: must be a mapping of knobs`);
    return withBurst({ ...base });
  }
  const out = { ...base };
  const v = value as Partial4;
  for (const k of Object.keys(v)) {
    if (!KNOBS.includes(k as keyof DomainLimits)) {
      errors.push(`${where}.${k}: unknown knob (expected ${KNOBS.join(', ')})`);
      continue;
    }
    const n = v[k as keyof DomainLimits];
    const integer = k !== 'messagesPerSecond';
    if (typeof n !== 'number' || !(n > 0) || (integer && !Number.isInteger(n))) {
      errors.push(`${where}.${k}: must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(n)}`);
      continue;
    }
    out[k as keyof DomainLimits] = n;
  }
  if (v.burst === undefined) out.burst = 0;
  return withBurst(out);
}

function withBurst(l: DomainLimits): DomainLimits {
  return l.burst > 0 ? l : { ...l, burst: Math.max(1, Math.ceil(l.messagesPerSecond)) };
}

/** Limits for a recipient domain: exact entry, else the longest matching suffix, else defaults. */
export function limitsFor(domain: string, rules: LimitRules): DomainLimits {
  const exact = rules.exact.get(domain);
  if (exact) return exact;
  for (const [suffix, limits] of rules.suffixes) if (domain.endsWith(suffix)) return limits;
  return rules.defaults;
}
