import { isIP } from 'node:net';
import type { Knobs } from './knobs.ts';
import type { ShapingRules } from './rules.ts';
import { suffixMatches } from './resolve.ts';

export type LintKind = 'never-matches' | 'overlap' | 'shadowed';
export interface LintFinding {
  kind: LintKind;
  where: string;
  message: string;
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Why no MX host (a lower-case name without a trailing dot) can have this suffix, if none can. */
export function impossibleSuffix(suffix: string): string | undefined {
  if (suffix === '' || suffix === '.') return 'is empty';
  if (suffix.endsWith('.')) return 'ends with a dot (MX host names are compared without the root dot)';
  if (suffix.includes('*')) return 'contains "*" (suffixes are literal; write ".example.com" for every host below it)';
  const name = suffix.startsWith('.') ? suffix.slice(1) : suffix;
  if (name.length > 253) return 'is longer than a host name can be';
  const bad = name.split('.').find((l) => !LABEL.test(l));
  if (bad !== undefined) return `has an invalid label "${bad}"`;
  if (!suffix.startsWith('.') && !name.includes('.')) return 'is a single label without a leading dot (matches only a host of that exact name)';
  return undefined;
}

const differs = (k: Partial<Knobs>, base: Knobs) => (Object.keys(k) as (keyof Knobs)[]).filter((n) => k[n] !== base[n]);

/**
 * Lints parsed rules: entries that can never match (a provider without match entries, a suffix
 * no host can have, an IP that is not an address), overlaps between providers (a host matched by
 * two: the longer suffix wins), and rules shadowed by defaults (they set nothing different).
 */
export function lintShapingRules(rules: ShapingRules): LintFinding[] {
  const out: LintFinding[] = [];
  const owners = new Map<string, string>();
  for (const p of rules.providers) {
    const at = `providers.${p.name}`;
    if (p.match.length === 0) out.push({ kind: 'never-matches', where: at, message: 'has no match entries: it can never apply' });
    for (const s of p.match) {
      const why = impossibleSuffix(s);
      if (why) out.push({ kind: 'never-matches', where: `${at}.match "${s}"`, message: `${why}: no MX host can match it` });
      const prev = owners.get(s);
      if (prev !== undefined) out.push({ kind: 'overlap', where: `${at}.match "${s}"`, message: prev === p.name ? 'is listed twice' : `is also matched by providers.${prev}` });
      else owners.set(s, p.name);
    }
    if (p.match.length > 0 && differs(p.knobs, rules.defaults).length === 0 && p.automation.length === 0 && Object.keys(p.adaptive).length === 0 && !p.warmup) {
      out.push({ kind: 'shadowed', where: at, message: 'sets nothing different from the defaults' });
    }
  }
  // Nested suffixes across providers: hosts under the longer one go to its provider only.
  for (const [a, pa] of owners) {
    for (const [b, pb] of owners) {
      if (a === b || a.length <= b.length || impossibleSuffix(a) || impossibleSuffix(b) || !suffixMatches(b, a.startsWith('.') ? a.slice(1) : a)) continue;
      const message = pa === pb ? `is redundant: "${b}" of the same provider already matches it` : `lies under providers.${pb}.match "${b}": hosts there use ${pa} (longest suffix wins)`;
      out.push({ kind: 'overlap', where: `providers.${pa}.match "${a}"`, message });
    }
  }
  for (const d of rules.domains) {
    const at = `domains."${d.name}"`;
    const why = impossibleSuffix(d.name.startsWith('.') ? d.name : `.${d.name}`);
    if (why || (!d.name.startsWith('.') && !d.name.includes('.'))) out.push({ kind: 'never-matches', where: at, message: `${why ?? 'is a single label'}: no recipient domain can match it` });
    else if (differs(d.knobs, rules.defaults).length === 0) out.push({ kind: 'shadowed', where: at, message: 'sets nothing different from the defaults' });
  }
  for (const ip of rules.sourceIps.values()) {
    const at = `sourceIps."${ip.ip}"`;
    if (isIP(ip.ip) === 0) out.push({ kind: 'never-matches', where: at, message: 'is not an IP address: no source IP can match it' });
    else if (differs(ip.knobs, rules.defaults).length === 0 && ip.providers.size === 0 && !ip.warmupStart) out.push({ kind: 'shadowed', where: at, message: 'sets nothing different from the defaults' });
  }
  return out;
}
