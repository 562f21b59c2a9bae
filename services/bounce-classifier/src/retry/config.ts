import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Key } from '@mta/config';
import { checkTiers, parseDuration, parsePolicy, type RetryPolicy } from '@mta/retry';
import { CATEGORIES } from '../categories.ts';
import { SHIPPED_POLICY_URL } from '../retry-policy.ts';


/** Reads and checks a policy file: one message per bad line. */
export function loadPolicyFile(path: string): RetryPolicy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot be read: ${(err as Error).message}`);
  }
  const { policy, errors } = parsePolicy(text, { categories: CATEGORIES });
  if (!policy) throw new Error(`has errors: ${errors.map((e) => (e.line ? `line ${e.line}: ${e.message}` : e.message)).join('; ')}`);
  return policy;
}

const policyFile: Key<{ path: string; policy: RetryPolicy }> = {
  env: 'MTA_RETRY_POLICY',
  description: 'Retry policy file: schedule per bounce category, domain and MX provider, jitter (format at the top of the shipped retry-policy.txt).',
  default: fileURLToPath(SHIPPED_POLICY_URL),
  parse: (path) => ({ path, policy: loadPolicyFile(path) }),
};

/** The delays of the five tier topics (mta.retry.2m ... mta.retry.4h), shortest first. */
const tiers: Key<number[]> = {
  env: 'MTA_RETRY_TIERS',
  description: 'Hold time of each retry tier topic, shortest first, one per topic (2m,10m,30m,2h,4h); shrink only for tests.',
  default: '2m,10m,30m,2h,4h',
  parse(raw) {
    const parts = raw.split(',').map((p) => p.trim());
    if (parts.length !== 5) throw new Error(`must list 5 durations (one per tier topic), got ${parts.length}`);
    const delays = parts.map((p) => parseDuration(p));
    const bad = delays.find((d): d is Error => d instanceof Error);
    if (bad) throw bad;
    const errors = checkTiers(delays as number[]);
    if (errors.length) throw new Error(errors.join('; '));
    return delays as number[];
  },
};

export const retryKeys = { retryPolicy: policyFile, retryTiers: tiers };
