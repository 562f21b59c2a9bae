import type { StatusRecord } from '@mta/contracts';
import type { MessageState } from './fold.ts';

export interface ThroughputPoint {
  /** Start of the bucket, ms since epoch. */
  t: number;
  accepted: number;
  sent: number;
  failed: number;
  softBounces: number;
}

/**
 * Status transitions per second of event time (the record's timestamp), for the dashboard's
 * chart. Bounded: only the last `keepSeconds` seconds before the newest record are kept.
 */
export class Throughput {
  private buckets = new Map<number, ThroughputPoint>();
  private newest = 0;
  constructor(private readonly keepSeconds = 900) {}

  add(prev: MessageState | undefined, next: MessageState, r: StatusRecord): void {
    const t = Math.floor(Date.parse(r.timestamp) / 1000) * 1000;
    if (!Number.isFinite(t) || t < this.newest - this.keepSeconds * 1000) return;
    let b = this.buckets.get(t);
    if (!b) {
      this.buckets.set(t, (b = { t, accepted: 0, sent: 0, failed: 0, softBounces: 0 }));
      if (t > this.newest) {
        this.newest = t;
        for (const k of this.buckets.keys()) if (k < t - this.keepSeconds * 1000) this.buckets.delete(k);
      }
    }
    if (!prev && next.status === 'taken_into_account') b.accepted++;
    if (prev?.status !== next.status && next.status === 'sent') b.sent++;
    if (prev?.status !== next.status && next.status === 'failed') b.failed++;
    if (r.event === 'soft_bounce') b.softBounces++;
  }

  /** `points` buckets of `stepSeconds` each, the last one holding `endMs`. */
  series(endMs: number, points = 60, stepSeconds = 5): ThroughputPoint[] {
    const step = stepSeconds * 1000;
    const last = Math.floor(endMs / step) * step;
    const out: ThroughputPoint[] = [];
    for (let i = points - 1; i >= 0; i--) out.push({ t: last - i * step, accepted: 0, sent: 0, failed: 0, softBounces: 0 });
    const first = out[0]!.t;
    for (const b of this.buckets.values()) {
      const i = Math.floor((b.t - first) / step);
      const p = out[i];
      if (i < 0 || !p) continue;
      p.accepted += b.accepted;
      p.sent += b.sent;
      p.failed += b.failed;
      p.softBounces += b.softBounces;
    }
    return out;
  }
}
