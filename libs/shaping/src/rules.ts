import { parse } from 'yaml';
import { ACTION_TYPES, type Action, type AutomationRule, type Trigger } from './actions.ts';
import { BASE_ADAPTIVE, BASE_KNOBS, INTEGER_KNOBS, KNOB_NAMES, TLS_POLICIES, type Adaptive, type Knobs } from './knobs.ts';

export interface RatioRule {
  /** Ratio above which the lane is throttled down (rate × decrease). */
  throttle: number;
  /** Ratio above which the lane is suspended for suspendS. */
  suspend: number;
  suspendS: number;
  /** Attempts in the window before the ratio counts. */
  minSamples: number;
  windowS: number;
}
export interface Ratios {
  invalidRecipient: RatioRule;
  complaint: RatioRule;
}

export interface ProviderRule {
  name: string;
  /** MX host suffixes as written (".google.com"); a bare name matches that host exactly. */
  match: string[];
  knobs: Partial<Knobs>;
  adaptive: Partial<Adaptive>;
  automation: AutomationRule[];
  /** Daily volume per new IP, day by day; absent = the defaults' schedule. */
  warmup?: number[];
}

export interface DomainRule {
  /** "example.com" (exactly) or ".example.com" (every subdomain). */
  name: string;
  knobs: Partial<Knobs>;
}

export interface SourceIpRule {
  ip: string;
  knobs: Partial<Knobs>;
  /** Per-provider knobs for this IP. */
  providers: Map<string, Partial<Knobs>>;
  /** A new IP follows the warm-up schedule from this date (YYYY-MM-DD). */
  warmupStart?: string;
}

export interface ShapingRules {
  defaults: Knobs;
  /** Whether the file's defaults set `tls` (else the sender's own default applies where no layer sets it). */
  tlsInDefaults?: boolean;
  adaptive: Adaptive;
  automation: AutomationRule[];
  ratios: Ratios;
  warmup: number[];
  providers: ProviderRule[];
  domains: DomainRule[];
  sourceIps: Map<string, SourceIpRule>;
}

export const BASE_RATIOS: Ratios = {
  invalidRecipient: { throttle: 0.03, suspend: 0.1, suspendS: 4 * 3600, minSamples: 100, windowS: 3600 },
  complaint: { throttle: 0.002, suspend: 0.005, suspendS: 4 * 3600, minSamples: 1000, windowS: 86400 },
};

type Errors = string[];
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function knobsOf(v: unknown, where: string, errors: Errors, extra: readonly string[] = []): Partial<Knobs> {
  const out: Partial<Knobs> = {};
  if (v === undefined || v === null) return out;
  if (!isMap(v)) {
    errors.push(`${where}: must be a mapping`);
    return out;
  }
  for (const [k, n] of Object.entries(v)) {
    if (extra.includes(k)) continue;
    if (!(KNOB_NAMES as readonly string[]).includes(k)) {
      errors.push(`${where}.${k}: unknown key (knobs: ${KNOB_NAMES.join(', ')}${extra.length ? `; also ${extra.join(', ')}` : ''})`);
      continue;
    }
    if (k === 'tls') {
      if (!(TLS_POLICIES as readonly unknown[]).includes(n)) errors.push(`${where}.tls: one of ${TLS_POLICIES.join(', ')}, got ${JSON.stringify(n)}`);
      else out.tls = n as Knobs['tls'];
      continue;
    }
    const integer = INTEGER_KNOBS.has(k);
    const okNumber = typeof n === 'number' && (k === 'burst' ? n >= 0 : n > 0) && (!integer || Number.isInteger(n));
    if (!okNumber) errors.push(`${where}.${k}: must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(n)}`);
    else (out as Record<string, number>)[k] = n as number;
  }
  return out;
}

const ADAPTIVE_KEYS = ['enabled', 'minRate', 'maxRate', 'increase', 'decrease', 'intervalS', 'slowStart', 'recovery'] as const;
function adaptiveOf(v: unknown, where: string, errors: Errors): Partial<Adaptive> {
  const out: Partial<Adaptive> = {};
  if (v === undefined || v === null) return out;
  if (!isMap(v)) {
    errors.push(`${where}: must be a mapping`);
    return out;
  }
  for (const [k, n] of Object.entries(v)) {
    if (!(ADAPTIVE_KEYS as readonly string[]).includes(k)) errors.push(`${where}.${k}: unknown key (${ADAPTIVE_KEYS.join(', ')})`);
    else if (k === 'enabled') {
      if (typeof n !== 'boolean') errors.push(`${where}.enabled: true or false`);
      else out.enabled = n;
    } else if (typeof n !== 'number' || !(n > 0)) errors.push(`${where}.${k}: must be a positive number`);
    else if (k === 'decrease' && n >= 1) errors.push(`${where}.decrease: a factor below 1`);
    else if ((k === 'slowStart' || k === 'recovery') && n < 1) errors.push(`${where}.${k}: a factor of at least 1`);
    else (out as Record<string, number>)[k] = n;
  }
  if (out.minRate !== undefined && out.maxRate !== undefined && out.minRate > out.maxRate) errors.push(`${where}: minRate above maxRate`);
  return out;
}

function triggerOf(v: unknown, where: string, errors: Errors): Trigger {
  if (v === undefined || v === 'immediate') return { kind: 'immediate' };
  if (isMap(v) && Number.isInteger(v.count) && (v.count as number) >= 1 && typeof v.windowS === 'number' && v.windowS > 0) {
    return { kind: 'count', count: v.count as number, windowS: v.windowS };
  }
  errors.push(`${where}.trigger: "immediate" or { count: N, windowS: S }`);
  return { kind: 'immediate' };
}

function actionOf(v: Record<string, unknown>, where: string, errors: Errors): Action | undefined {
  const type = v.action;
  switch (type) {
    case 'suspend':
    case 'disable-ip':
    case 'bounce-queue':
      return { type };
    case 'lower-rate': {
      const f = v.factor ?? 0.5;
      if (typeof f !== 'number' || !(f > 0 && f < 1)) {
        errors.push(`${where}.factor: a number between 0 and 1`);
        return undefined;
      }
      return { type, factor: f };
    }
    case 'lower-connections': {
      const to = v.to ?? 1;
      if (!Number.isInteger(to) || (to as number) < 1) {
        errors.push(`${where}.to: a positive integer`);
        return undefined;
      }
      return { type, to: to as number };
    }
    default:
      errors.push(`${where}.action: one of ${ACTION_TYPES.join(', ')}, got ${JSON.stringify(type)}`);
      return undefined;
  }
}

function automationOf(v: unknown, where: string, errors: Errors): AutomationRule[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    errors.push(`${where}: must be a list of rules`);
    return [];
  }
  const out: AutomationRule[] = [];
  v.forEach((r, i) => {
    const at = `${where}[${i}]`;
    if (!isMap(r)) return void errors.push(`${at}: must be a mapping`);
    for (const k of Object.keys(r)) if (!['pattern', 'trigger', 'action', 'durationS', 'factor', 'to'].includes(k)) errors.push(`${at}.${k}: unknown key`);
    let pattern: RegExp | undefined;
    if (typeof r.pattern !== 'string' || r.pattern === '') errors.push(`${at}.pattern: a regular expression (string)`);
    else {
      try {
        pattern = new RegExp(r.pattern, 'i');
      } catch (err) {
        errors.push(`${at}.pattern: ${(err as Error).message}`);
      }
    }
    const trigger = triggerOf(r.trigger, at, errors);
    const action = actionOf(r, at, errors);
    const durationS = r.durationS ?? 600;
    if (typeof durationS !== 'number' || !(durationS > 0)) errors.push(`${at}.durationS: a positive number of seconds`);
    if (pattern && action && typeof durationS === 'number' && durationS > 0) out.push({ id: at, pattern, trigger, action, durationS });
  });
  return out;
}

function warmupOf(v: unknown, where: string, errors: Errors): number[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length === 0 || !v.every((n) => Number.isInteger(n) && n > 0)) {
    errors.push(`${where}: a non-empty list of daily volumes (positive integers)`);
    return undefined;
  }
  return v as number[];
}

function ratioOf(base: RatioRule, v: unknown, where: string, errors: Errors): RatioRule {
  if (v === undefined) return base;
  if (!isMap(v)) {
    errors.push(`${where}: must be a mapping`);
    return base;
  }
  const out = { ...base };
  for (const [k, n] of Object.entries(v)) {
    if (!(k in base)) errors.push(`${where}.${k}: unknown key (${Object.keys(base).join(', ')})`);
    else if (typeof n !== 'number' || !(n > 0)) errors.push(`${where}.${k}: a positive number`);
    else out[k as keyof RatioRule] = n;
  }
  if (out.throttle > out.suspend) errors.push(`${where}: throttle ratio above suspend ratio`);
  return out;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Parses a shaping rule file (format in docs/shaping.md). Structural errors are reported
 * (every one, with its path); rules that parse but can never match are the linter's job.
 */
export function parseShapingRules(text: string): { ok: true; rules: ShapingRules } | { ok: false; errors: string[] } {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    return { ok: false, errors: [`not valid YAML: ${(err as Error).message}`] };
  }
  if (doc === null || doc === undefined) doc = {};
  if (!isMap(doc)) return { ok: false, errors: ['the file must be a mapping (defaults, providers, domains, sourceIps, ...)'] };
  const errors: Errors = [];
  const TOP = ['defaults', 'adaptive', 'automation', 'ratios', 'warmup', 'providers', 'domains', 'sourceIps'];
  for (const k of Object.keys(doc)) if (!TOP.includes(k)) errors.push(`unknown top-level key "${k}" (expected ${TOP.join(', ')})`);

  const defaults: Knobs = { ...BASE_KNOBS, ...knobsOf(doc.defaults, 'defaults', errors) };
  const adaptive: Adaptive = { ...BASE_ADAPTIVE, ...adaptiveOf(doc.adaptive, 'adaptive', errors) };
  const automation = automationOf(doc.automation, 'automation', errors);
  const r = isMap(doc.ratios) ? doc.ratios : {};
  if (doc.ratios !== undefined && !isMap(doc.ratios)) errors.push('ratios: must be a mapping');
  for (const k of Object.keys(r)) if (k !== 'invalidRecipient' && k !== 'complaint') errors.push(`ratios.${k}: unknown key (invalidRecipient, complaint)`);
  const ratios: Ratios = {
    invalidRecipient: ratioOf(BASE_RATIOS.invalidRecipient, r.invalidRecipient, 'ratios.invalidRecipient', errors),
    complaint: ratioOf(BASE_RATIOS.complaint, r.complaint, 'ratios.complaint', errors),
  };
  const warmup = warmupOf(doc.warmup, 'warmup', errors) ?? [50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000];

  const providers: ProviderRule[] = [];
  if (doc.providers !== undefined && !isMap(doc.providers)) errors.push('providers: must be a mapping of name → rule');
  for (const [name, v] of Object.entries(isMap(doc.providers) ? doc.providers : {})) {
    const at = `providers.${name}`;
    if (v !== null && v !== undefined && !isMap(v)) {
      errors.push(`${at}: must be a mapping`);
      continue;
    }
    const p = (v ?? {}) as Record<string, unknown>;
    let match: string[] = [];
    if (p.match !== undefined && p.match !== null) {
      if (!Array.isArray(p.match) || !p.match.every((m) => typeof m === 'string')) errors.push(`${at}.match: a list of MX host suffixes`);
      else match = (p.match as string[]).map((m) => m.toLowerCase());
    }
    const warm = warmupOf(p.warmup, `${at}.warmup`, errors);
    providers.push({
      name,
      match,
      knobs: knobsOf(p, at, errors, ['match', 'adaptive', 'automation', 'warmup']),
      adaptive: adaptiveOf(p.adaptive, `${at}.adaptive`, errors),
      automation: automationOf(p.automation, `${at}.automation`, errors),
      ...(warm ? { warmup: warm } : {}),
    });
  }

  const domains: DomainRule[] = [];
  if (doc.domains !== undefined && !isMap(doc.domains)) errors.push('domains: must be a mapping of domain → knobs');
  for (const [name, v] of Object.entries(isMap(doc.domains) ? doc.domains : {})) {
    domains.push({ name: name.toLowerCase(), knobs: knobsOf(v, `domains."${name}"`, errors) });
  }

  const sourceIps = new Map<string, SourceIpRule>();
  if (doc.sourceIps !== undefined && !isMap(doc.sourceIps)) errors.push('sourceIps: must be a mapping of IP → rule');
  for (const [ip, v] of Object.entries(isMap(doc.sourceIps) ? doc.sourceIps : {})) {
    const at = `sourceIps."${ip}"`;
    const s = isMap(v) ? v : {};
    if (v !== null && v !== undefined && !isMap(v)) errors.push(`${at}: must be a mapping`);
    const perProvider = new Map<string, Partial<Knobs>>();
    if (s.providers !== undefined) {
      if (!isMap(s.providers)) errors.push(`${at}.providers: a mapping of provider → knobs`);
      else for (const [p, k] of Object.entries(s.providers)) perProvider.set(p, knobsOf(k, `${at}.providers.${p}`, errors));
    }
    let warmupStart: string | undefined;
    if (s.warmupStart !== undefined) {
      const d = s.warmupStart instanceof Date ? s.warmupStart.toISOString().slice(0, 10) : s.warmupStart;
      if (typeof d !== 'string' || !DATE.test(d) || Number.isNaN(Date.parse(d))) errors.push(`${at}.warmupStart: a date YYYY-MM-DD`);
      else warmupStart = d;
    }
    sourceIps.set(ip, { ip, knobs: knobsOf(s, at, errors, ['providers', 'warmupStart']), providers: perProvider, ...(warmupStart ? { warmupStart } : {}) });
  }
  for (const ip of sourceIps.values()) for (const p of ip.providers.keys()) if (!providers.some((x) => x.name === p)) errors.push(`sourceIps."${ip.ip}".providers.${p}: no such provider`);

  const tlsInDefaults = isMap(doc.defaults) && doc.defaults.tls !== undefined;
  return errors.length ? { ok: false, errors } : { ok: true, rules: { defaults, tlsInDefaults, adaptive, automation, ratios, warmup, providers, domains, sourceIps } };
}
