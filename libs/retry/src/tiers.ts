/**
 * Tiered delay topics: each tier topic holds its records for a fixed delay, so a partition is in
 * release order and only its head needs watching. A record waiting `remaining` ms goes to the
 * largest tier not longer than `remaining`; when that tier releases it, it is either due (back to
 * the queue) or re-tiered into a smaller tier for what is left. What is left below the smallest
 * tier is held in the smallest tier until exactly due (it may then wait behind that tier's head
 * for less than the smallest delay).
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

/** Where a record due at `dueAt` waits, seen at `now` (both ms since epoch). Pure. */
export function placeRetry(now: number, dueAt: number, delays: readonly number[]): Placement {
  const remaining = dueAt - now;
  if (remaining <= 0) return { kind: 'due' };
  let index = 0;
  for (let i = 0; i < delays.length; i++) if (delays[i]! <= remaining) index = i;
  const delayMs = delays[index]!;
  return { kind: 'hold', tier: { index, delayMs }, notBefore: Math.min(dueAt, now + delayMs) };
}

/** How many tier hops a wait of `waitMs` takes (reads and writes of the message: cost). */
export function hopsFor(waitMs: number, delays: readonly number[]): number {
  let hops = 0;
  let now = 0;
  for (;;) {
    const p = placeRetry(now, waitMs, delays);
    if (p.kind === 'due') return hops;
    hops++;
    now = p.notBefore;
  }
}
