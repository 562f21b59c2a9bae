import { parseDuration } from './duration.ts';

/**
 * The retry policy as readable data (a text file, see services/bounce-classifier/src/retry-policy.txt):
 *
 *   jitter = 10%
 *   # selectors (ANDed)                  | schedule
 *   category=greylisted                  | 1m, 5m, 10m, 20m...
 *   mx=.google.com category=quota-issues | 2h, 4h...
 *   domain=example.com                   | 10m...
 *   default                              | 5m, 10m, 30m*2, 1h*4, 4h...
 *
 * Selectors: `category=a,b` (the classifier's fine category), `domain=x,y` (the recipient domain
 * or a subdomain of it), `mx=.suffix,host` (the MX host that answered: a leading dot matches any
 * host ending so, e.g. a provider), `default` (everything; must be the last rule). The first rule
 * whose selectors all match decides.
 *
 * Schedule: comma-separated steps, the n-th step is the wait after the n-th failed attempt.
 * `30m*2` = the step twice; `4h...` on the LAST step = repeat it until the validity period ends.
 * Without `...` the schedule can run out: the message then fails before its validity ends.
 */
export interface Step {
  ms: number;
  times: number;
}

export interface Schedule {
  steps: Step[];
  /** The last step repeats forever (`...`). */
  repeatLast: boolean;
  text: string;
}

export interface PolicyRule {
  /** Line in the policy file. */
  line: number;
  categories?: string[];
  domains?: string[];
  mx?: string[];
  schedule: Schedule;
}

export interface RetryPolicy {
  rules: PolicyRule[];
  /** Relative jitter, e.g. 0.1 = each wait is spread over ±10 %. */
  jitter: number;
}

export interface PolicyError {
  line: number;
  message: string;
}

export interface ParseOptions {
  /** The categories a selector may name (a typo is an error, not a rule that never matches). */
  categories?: readonly string[];
}

export const DEFAULT_JITTER = 0.1;
const STEP = /^(.+?)(?:\*(\d+))?(\.\.\.)?$/;

/** Parses one schedule, `5m, 10m, 30m*2, 1h*4, 4h...`; one error per bad element. */
export function parseSchedule(text: string): { schedule?: Schedule; errors: string[] } {
  const errors: string[] = [];
  const steps: Step[] = [];
  let repeatLast = false;
  const elements = text.split(',').map((e) => e.trim());
  elements.forEach((el, i) => {
    const where = `step ${i + 1} "${el}"`;
    if (el === '') return void errors.push(`step ${i + 1} is empty`);
    const m = STEP.exec(el);
    if (!m) return void errors.push(`${where}: expected <duration>[*count][...]`);
    const ms = parseDuration(m[1]!);
    if (ms instanceof Error) return void errors.push(`${where}: ${ms.message}`);
    if (ms <= 0) return void errors.push(`${where}: a wait must be longer than 0`);
    const times = m[2] === undefined ? 1 : Number(m[2]);
    if (times < 1) return void errors.push(`${where}: a count must be at least 1`);
    if (m[3]) {
      if (i !== elements.length - 1) return void errors.push(`${where}: "..." (repeat forever) is only allowed on the last step`);
      repeatLast = true;
    }
    steps.push({ ms, times });
  });
  if (errors.length > 0) return { errors };
  return { schedule: { steps, repeatLast, text: text.trim() }, errors };
}

/** Parses a policy file; every bad line or element yields an error with its line number. */
export function parsePolicy(text: string, opts: ParseOptions = {}): { policy?: RetryPolicy; errors: PolicyError[] } {
  const errors: PolicyError[] = [];
  const rules: PolicyRule[] = [];
  let jitter: number | undefined;
  let defaultLine: number | undefined;
  const known = opts.categories ? new Set(opts.categories) : undefined;

  text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/).forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.replace(/#.*$/, '').trim();
    if (trimmed === '') return;
    const err = (message: string) => errors.push({ line, message });

    const jm = /^jitter\s*=\s*(.*)$/i.exec(trimmed);
    if (jm) {
      if (jitter !== undefined) return void err('jitter is set twice');
      const pm = /^(\d+(?:\.\d+)?)\s*%$/.exec(jm[1]!.trim());
      if (!pm || Number(pm[1]) >= 100) return void err(`jitter "${jm[1]}" must be a percentage below 100, e.g. 10%`);
      jitter = Number(pm[1]) / 100;
      return;
    }

    const bar = trimmed.indexOf('|');
    if (bar < 0) return void err('expected `selectors | schedule` or `jitter = N%`');
    if (defaultLine !== undefined) return void err(`rule after the default rule (line ${defaultLine}) can never match`);
    const selectorText = trimmed.slice(0, bar).trim();
    const { schedule, errors: stepErrors } = parseSchedule(trimmed.slice(bar + 1));
    for (const m of stepErrors) err(m);

    const rule: Partial<PolicyRule> = { line };
    let ok = stepErrors.length === 0;
    if (selectorText === 'default') defaultLine = line;
    else if (selectorText === '') {
      err('no selector (use `default` for the catch-all)');
      ok = false;
    } else {
      for (const sel of selectorText.split(/\s+/)) {
        const sm = /^(category|domain|mx)=(.+)$/.exec(sel);
        if (!sm) {
          err(`selector "${sel}" must be category=..., domain=..., mx=... or default`);
          ok = false;
          continue;
        }
        const field = sm[1] === 'category' ? 'categories' : sm[1] === 'domain' ? 'domains' : 'mx';
        if (rule[field]) {
          err(`selector ${sm[1]} given twice`);
          ok = false;
          continue;
        }
        const values = sm[2]!.split(',').map((v) => v.trim().toLowerCase());
        for (const v of values) {
          if (v === '') {
            err(`selector ${sm[1]} has an empty value`);
            ok = false;
          } else if (field === 'categories' && known && !known.has(v)) {
            err(`unknown category "${v}" (one of: ${[...known].join(', ')})`);
            ok = false;
          }
        }
        rule[field] = values;
      }
    }
    if (ok && schedule) {
      const shadow = rules.find((earlier) => covers(earlier, rule));
      if (shadow) err(`rule can never match: line ${shadow.line} matches every failure it would`);
      else rules.push({ ...rule, schedule } as PolicyRule);
    }
  });
  if (defaultLine === undefined) errors.push({ line: 0, message: 'no `default | ...` rule: every failure needs a schedule' });
  if (errors.length > 0) return { errors };
  return { policy: { rules, jitter: jitter ?? DEFAULT_JITTER }, errors };
}

const coversAll = <T>(a: T[] | undefined, b: T[] | undefined, covered: (bv: T, av: T) => boolean) =>
  a === undefined || (b !== undefined && b.every((bv) => a.some((av) => covered(bv, av))));

/** Whether every failure `later` matches is already matched by `earlier` (so `later` is dead). */
function covers(earlier: PolicyRule, later: Partial<PolicyRule>): boolean {
  return (
    coversAll(earlier.categories, later.categories, (b, a) => a === b) &&
    coversAll(earlier.domains, later.domains, (b, a) => domainMatches(b, a)) &&
    coversAll(earlier.mx, later.mx, (b, a) => a === b || (a.startsWith('.') && (b.endsWith(a) || b === a.slice(1))))
  );
}

/** What a rule is matched against. */
export interface RetrySubject {
  category: string;
  domain: string;
  /** The MX host that answered, when known. */
  mxHost?: string | undefined;
}

const domainMatches = (domain: string, pattern: string) => domain === pattern || domain.endsWith(`.${pattern}`);
const mxMatches = (host: string, pattern: string) => (pattern.startsWith('.') ? host.endsWith(pattern) || host === pattern.slice(1) : host === pattern);

/** The first rule whose selectors all match. A parsed policy always ends with `default`. */
export function ruleFor(policy: RetryPolicy, s: RetrySubject): PolicyRule {
  const domain = s.domain.toLowerCase();
  const mx = s.mxHost?.toLowerCase().replace(/\.$/, '');
  for (const r of policy.rules) {
    if (r.categories && !r.categories.includes(s.category.toLowerCase())) continue;
    if (r.domains && !r.domains.some((d) => domainMatches(domain, d))) continue;
    if (r.mx && (mx === undefined || !r.mx.some((p) => mxMatches(mx, p)))) continue;
    return r;
  }
  throw new Error('retry policy has no default rule');
}

/** The wait after the n-th failed attempt (1-based), or undefined once a finite schedule ran out. */
export function stepAfter(schedule: Schedule, failedAttempt: number): number | undefined {
  let n = failedAttempt;
  for (const step of schedule.steps) {
    if (n <= step.times) return step.ms;
    n -= step.times;
  }
  return schedule.repeatLast ? schedule.steps[schedule.steps.length - 1]?.ms : undefined;
}
