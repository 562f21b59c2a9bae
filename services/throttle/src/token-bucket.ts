/** A token bucket as plain data; `take` is pure over (state, now, limits). */
export interface Bucket {
  tokens: number;
  updatedAt: number;
}

export function refill(b: Bucket, now: number, ratePerSec: number, burst: number): Bucket {
  if (now <= b.updatedAt) return b;
  return { tokens: Math.min(burst, b.tokens + ((now - b.updatedAt) / 1000) * ratePerSec), updatedAt: now };
}

/** Takes one token if there is one; otherwise says how long until there will be. */
export function take(b: Bucket, now: number, ratePerSec: number, burst: number): { bucket: Bucket; waitMs: number } {
  const r = refill(b, now, ratePerSec, burst);
  if (r.tokens >= 1) return { bucket: { tokens: r.tokens - 1, updatedAt: r.updatedAt }, waitMs: 0 };
  return { bucket: r, waitMs: Math.ceil(((1 - r.tokens) / ratePerSec) * 1000) };
}
