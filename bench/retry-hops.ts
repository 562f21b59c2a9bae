/**
 * Cost of the tiered delay topics for the shipped retry policy: how many tier hops (one write and
 * one read of the whole message each, plus the final write to mta.queue) each retry takes, averaged
 * over jitter seeds. Pure computation, no Kafka:
 *
 *   node --import tsx bench/retry-hops.ts [tiers, default 2m,10m,30m,2h,4h]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatDuration, hopsFor, jittered, parseDuration, parsePolicy, stepAfter } from '@mta/retry';

const tiers = (process.argv[2] ?? '2m,10m,30m,2h,4h').split(',').map((t) => parseDuration(t) as number);
const text = readFileSync(fileURLToPath(new URL('../services/bounce-classifier/src/retry-policy.txt', import.meta.url)), 'utf8');
const { policy, errors } = parsePolicy(text);
if (!policy) throw new Error(JSON.stringify(errors));
const SEEDS = 1000;

console.log(`tiers ${tiers.map(formatDuration).join(', ')}; jitter ±${policy.jitter * 100} %; mean hops per retry over ${SEEDS} seeds`);
let all = 0;
let n = 0;
for (const rule of policy.rules) {
  const cells: string[] = [];
  for (let attempt = 1; attempt <= 8; attempt++) {
    const step = stepAfter(rule.schedule, attempt);
    if (step === undefined) break;
    let sum = 0;
    for (let i = 0; i < SEEDS; i++) sum += hopsFor(jittered(step, policy.jitter, `m${i}:${attempt}`), tiers);
    cells.push(`${formatDuration(step)}:${(sum / SEEDS).toFixed(1)}`);
    all += sum / SEEDS;
    n++;
  }
  console.log(`line ${String(rule.line).padStart(2)}  ${cells.join('  ')}`);
}
console.log(`mean over the first 8 retries of every rule: ${(all / n).toFixed(2)} hops per retry`);
