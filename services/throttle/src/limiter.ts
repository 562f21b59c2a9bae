import { deadlineTimer } from '@mta/retry';
import { refill, take, type Bucket } from './token-bucket.ts';

/** A waiter's deadline (its message's validity end) passed before its token came. */
export class WaitExpired extends Error {
  constructor() {
    super('validity period ended while waiting for a token');
  }
}

interface Lane {
  bucket: Bucket;
  waiters: { resolve: () => void; reject: (err: Error) => void }[];
  timer: NodeJS.Timeout | undefined;
  rate: number;
  burst: number;
}

/**
 * One FIFO lane per key (recipient domain), each with its own token bucket and timer: a key
 * that is rate-limited only delays its own lane, never another (no head-of-line blocking).
 */
export class Limiter {
  private lanes = new Map<string, Lane>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Waits for a token of `key`'s lane. With `deadline` (ms since epoch; the message's validity
   * end), a waiter still queued then leaves the queue at once, rejected with WaitExpired, instead
   * of sitting until its turn (and taking a token it no longer needs).
   */
  acquire(key: string, rate: number, burst: number, deadline?: number): Promise<void> {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { bucket: { tokens: burst, updatedAt: this.now() }, waiters: [], timer: undefined, rate, burst };
      this.lanes.set(key, lane);
    }
    lane.rate = rate;
    lane.burst = burst;
    if (lane.waiters.length === 0) {
      const r = take(lane.bucket, this.now(), rate, burst);
      lane.bucket = r.bucket;
      if (r.waitMs === 0) return Promise.resolve();
    }
    const l = lane;
    return new Promise<void>((resolve, reject) => {
      if (deadline === undefined) {
        l.waiters.push({ resolve, reject });
      } else {
        // No timer for a deadline beyond a timer's reach (deadlineTimer): the throttle still
        // checks the validity once the message is released.
        let timer: NodeJS.Timeout | undefined;
        const waiter = {
          resolve: () => (clearTimeout(timer), resolve()),
          reject: (err: Error) => (clearTimeout(timer), reject(err)),
        };
        timer = deadlineTimer(
          deadline,
          () => {
            const at = l.waiters.indexOf(waiter);
            if (at < 0) return;
            l.waiters.splice(at, 1);
            if (l.waiters.length === 0 && l.timer) {
              clearTimeout(l.timer); // nobody left to wake
              l.timer = undefined;
            }
            reject(new WaitExpired());
          },
          this.now(),
        );
        l.waiters.push(waiter);
      }
      this.schedule(key, l);
    });
  }

  /** True when messages for `key` are waiting for a token (demand above the rate). */
  busy(key: string): boolean {
    const l = this.lanes.get(key);
    return l !== undefined && l.waiters.length > 0;
  }

  /** New limits for a lane (adaptation changed them): its waiters are re-timed at once. */
  update(key: string, rate: number, burst: number): void {
    const l = this.lanes.get(key);
    if (!l) return;
    l.rate = rate;
    l.burst = burst;
    if (l.timer) {
      clearTimeout(l.timer);
      l.timer = undefined;
    }
    if (l.waiters.length) this.schedule(key, l);
  }

  /** Rejects every waiter of a lane (bounce the queue); returns how many. */
  rejectAll(key: string, err: Error): number {
    const l = this.lanes.get(key);
    if (!l) return 0;
    const w = l.waiters;
    l.waiters = [];
    if (l.timer) {
      clearTimeout(l.timer);
      l.timer = undefined;
    }
    for (const x of w) x.reject(err);
    return w.length;
  }

  /** Waiting records per key, for the operator surface and metrics. */
  queued(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [k, l] of this.lanes) if (l.waiters.length) out.set(k, l.waiters.length);
    return out;
  }

  get waiting(): number {
    let n = 0;
    for (const l of this.lanes.values()) n += l.waiters.length;
    return n;
  }

  private schedule(key: string, lane: Lane): void {
    if (lane.timer) return;
    // A dry run of take() (pure) says when the next token exists; drain() takes it.
    const { waitMs } = take(lane.bucket, this.now(), lane.rate, lane.burst);
    lane.timer = setTimeout(() => this.drain(key, lane), waitMs);
  }

  private drain(key: string, lane: Lane): void {
    lane.timer = undefined;
    while (lane.waiters.length) {
      const r = take(lane.bucket, this.now(), lane.rate, lane.burst);
      lane.bucket = r.bucket;
      if (r.waitMs > 0) break;
      lane.waiters.shift()!.resolve();
    }
    if (lane.waiters.length) this.schedule(key, lane);
  }

  /** Forgets idle lanes whose bucket has refilled, so memory follows active domains only. */
  sweep(): void {
    const now = this.now();
    for (const [key, l] of this.lanes) {
      if (l.waiters.length === 0 && !l.timer && refill(l.bucket, now, l.rate, l.burst).tokens >= l.burst) this.lanes.delete(key);
    }
  }
}
