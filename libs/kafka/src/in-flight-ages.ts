import type { Handler } from './stage.ts';

/**
 * The records a stage is working on, by their Kafka timestamp, for the watchdog gauge "age of
 * the oldest message in this stage". A message stuck in a stage (a throttle lane that never
 * drains, a hung SMTP session) shows as a growing age.
 */
export class InFlightAges {
  private next = 0;
  private readonly since = new Map<number, number>();

  enter(timestampMs: number): number {
    const id = this.next++;
    this.since.set(id, Number.isFinite(timestampMs) ? timestampMs : Date.now());
    return id;
  }

  leave(id: number): void {
    this.since.delete(id);
  }

  /** Timestamp (ms since epoch) of the oldest record in flight, or undefined when idle. */
  oldest(): number | undefined {
    let min: number | undefined;
    for (const t of this.since.values()) if (min === undefined || t < min) min = t;
    return min;
  }

  /** The handler, recording each record while it is handled. */
  wrap(handle: Handler): Handler {
    return async (rec) => {
      const id = this.enter(Number(rec.timestamp));
      try {
        return await handle(rec);
      } finally {
        this.leave(id);
      }
    };
  }
}
