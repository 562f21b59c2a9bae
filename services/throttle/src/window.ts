/**
 * In-flight window per lane: at most `cap` messages released and not yet seen back as an
 * attempt. The throttle's release rate alone does not bound what reaches a receiver when the
 * sender lags (a backlog on mta.deliveries goes out as a burst once it catches up); the
 * window makes the lane self-clocking, like TCP's congestion window. A slot whose attempt is
 * never seen (lost, dead-lettered) expires after `ttlMs`, so a lane never stalls for good.
 */
export class InFlightWindow {
  private lanes = new Map<string, { released: number[]; waiters: (() => void)[]; timer: NodeJS.Timeout | undefined }>();

  constructor(
    private readonly ttlMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  private lane(key: string) {
    let l = this.lanes.get(key);
    if (!l) {
      l = { released: [], waiters: [], timer: undefined };
      this.lanes.set(key, l);
    }
    return l;
  }

  inFlight(key: string): number {
    const l = this.lanes.get(key);
    if (!l) return 0;
    this.expire(l);
    return l.released.length;
  }

  private expire(l: { released: number[] }) {
    const cutoff = this.now() - this.ttlMs;
    while (l.released.length && l.released[0]! <= cutoff) l.released.shift();
  }

  /** Waits (FIFO) until the lane has fewer than `cap` messages in flight, then takes a slot. */
  async acquire(key: string, cap: number): Promise<void> {
    const l = this.lane(key);
    this.expire(l);
    if (l.waiters.length === 0 && l.released.length < cap) {
      l.released.push(this.now());
      return;
    }
    for (let first = true; ; first = false) {
      // A waiter woken without room (an expiry raced it) keeps its place at the head.
      await new Promise<void>((resolve) => {
        if (first) l.waiters.push(resolve);
        else l.waiters.unshift(resolve);
        this.arm(key);
      });
      this.expire(l);
      if (l.released.length < cap) {
        l.released.push(this.now());
        if (l.released.length < cap) l.waiters.shift()?.(); // room for more (the cap grew)
        return;
      }
    }
  }

  /** An attempt of the lane was seen: frees the oldest slot and wakes the next waiter. */
  settle(key: string): void {
    const l = this.lanes.get(key);
    if (!l) return;
    l.released.shift();
    l.waiters.shift()?.();
  }

  /** Wakes the first waiter when the oldest slot expires (a lost attempt). */
  private arm(key: string): void {
    const l = this.lanes.get(key)!;
    if (l.timer || l.released.length === 0) return;
    l.timer = setTimeout(() => {
      l.timer = undefined;
      this.expire(l);
      l.waiters.shift()?.();
      if (l.waiters.length) this.arm(key);
    }, Math.max(1, l.released[0]! + this.ttlMs - this.now()));
    l.timer.unref();
  }

  /** Forgets idle lanes. */
  sweep(): void {
    for (const [k, l] of this.lanes) {
      this.expire(l);
      if (l.released.length === 0 && l.waiters.length === 0) this.lanes.delete(k);
    }
  }
}
