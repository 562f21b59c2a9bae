/**
 * Operator CLI for retry policy files:
 *
 *   node --import tsx services/bounce-classifier/src/retry/check-policy.ts [file] [category domain [mx-host]]
 *
 * Prints every error with its line number (exit 1), or, given a failure, the rule that decides
 * and the first waits it gives (without jitter) with their hops through the default tiers.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatDuration, hopsFor, parsePolicy, ruleFor, stepAfter } from '@mta/retry';
import { CATEGORIES } from '../categories.ts';
import { SHIPPED_POLICY_URL } from '../retry-policy.ts';

const DEFAULT_TIERS = [120_000, 600_000, 1_800_000, 7_200_000, 14_400_000];

export function checkPolicy(text: string, failure?: { category: string; domain: string; mxHost?: string }): { ok: boolean; lines: string[] } {
  const { policy, errors } = parsePolicy(text, { categories: CATEGORIES });
  if (!policy) return { ok: false, lines: errors.map((e) => (e.line ? `line ${e.line}: ${e.message}` : e.message)) };
  const lines = [`ok: ${policy.rules.length} rules, jitter ±${Math.round(policy.jitter * 1000) / 10} %`];
  if (failure) {
    const rule = ruleFor(policy, failure);
    lines.push(`rule on line ${rule.line}: ${rule.schedule.text}`);
    for (let n = 1; n <= 10; n++) {
      const step = stepAfter(rule.schedule, n);
      if (step === undefined) {
        lines.push(`after attempt ${n}: schedule exhausted, the message fails`);
        break;
      }
      lines.push(`after attempt ${n}: wait ${formatDuration(step)} (${hopsFor(step, DEFAULT_TIERS)} tier hops)`);
    }
  }
  return { ok: true, lines };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, category, domain, mxHost] = process.argv.slice(2);
  const path = file || fileURLToPath(SHIPPED_POLICY_URL);
  const r = checkPolicy(readFileSync(path, 'utf8'), category && domain ? { category, domain, ...(mxHost ? { mxHost } : {}) } : undefined);
  console.log(`${path}\n${r.lines.join('\n')}`);
  process.exit(r.ok ? 0 : 1);
}
