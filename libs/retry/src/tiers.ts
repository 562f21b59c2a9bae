/**
 * Tiered delay topics: each tier topic holds its records for (about) a fixed delay, so a partition
 * is in release order and only its head needs watching. A record waiting `remaining` ms goes to
 * the largest tier whose delay is at most `remaining / (1 - tolerance)`, and is held there until
 * `min(dueAt, now + delay)`; when released it is either due (back to the queue) or re-tiered for
 * what is left. Two bounded imprecisions, both below the policy's own jitter:
 * - a record held shorter than its tier's delay (within `tolerance`, default 10 %, of it) can wait
 *   behind an earlier head of the same partition: late by at most `tolerance × delay`;
 * - what is left below the smallest tier is held there until due: late by less than that delay.
 * The tolerance saves hops: a 5 min step jittered to 4 min 45 s is one hop (5m tier, released at
 * its due time) instead of four (1m × 4, then the rest).
 */
export interface Tier {
  /** Index in the tier list (the topic). */
  index: number;
  delayMs: number;
}

export type Placement =
  /** Due now: back to the queue (or expire, when the validity is over). */
  | { kind: 'due' }
  /** Hold in `tier` until `notBefore` (ms since epoch). */
  | { kind: 'hold'; tier: Tier; notBefore: number };

/** Validates a tier list: at least one, strictly increasing, positive. */
export function checkTiers(delays: readonly number[]): string[] {
  const errors: string[] = [];
  if (delays.length === 0) errors.push('at least one tier is needed');
  delays.forEach((d, i) => {
    if (!(d > 0)) errors.push(`tier ${i + 1} must be longer than 0`);
    if (i > 0 && !(d > delays[i - 1]!)) errors.push(`tier ${i + 1} must be longer than tier ${i}`);
  });
  return errors;
}

export const DEFAULT_TIER_TOLERANCE = 0.1;

/** Where a record due at `dueAt` waits, seen at `now` (both ms since epoch). Pure. */
export function placeRetry(now: number, dueAt: number, delays: readonly number[], tolerance = DEFAULT_TIER_TOLERANCE): Placement {
  const remaining = dueAt - now;
  if (remaining <= 0) return { kind: 'due' };
  let index = 0;
  for (let i = 0; i < delays.length; i++) if (delays[i]! * (1 - tolerance) <= remaining) index = i;
  const delayMs = delays[index]!;
  return { kind: 'hold', tier: { index, delayMs }, notBefore: Math.min(dueAt, now + delayMs) };
}

/** How many tier hops a wait of `waitMs` takes (reads and writes of the message: cost). */
export function hopsFor(waitMs: number, delays: readonly number[], tolerance = DEFAULT_TIER_TOLERANCE): number {
  let hops = 0;
  let now = 0;
  for (;;) {
    const p = placeRetry(now, waitMs, delays, tolerance);
    if (p.kind === 'due') return hops;
    hops++;
    now = p.notBefore;
  }
}
