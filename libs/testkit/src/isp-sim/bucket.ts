/** A token bucket as plain data (the simulator's own, so it shares nothing with the throttle). */
export interface SimBucket {
  tokens: number;
  at: number;
}

export function takeToken(b: SimBucket, now: number, rate: number, burst: number): boolean {
  b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate);
  b.at = now;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}
