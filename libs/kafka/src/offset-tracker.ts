/**
 * Tracks records of one partition that were dispatched in offset order and finish in any order.
 * The committable offset is the first one not yet finished: committing it can never skip a
 * record whose outcome is not yet produced (at-least-once).
 */
export class PartitionTracker {
  private offsets: bigint[] = [];
  private done: boolean[] = [];
  private head = 0;
  private lastDispatched: bigint | undefined;
  private committed: bigint | undefined;

  dispatch(offset: bigint): void {
    if (this.lastDispatched !== undefined && offset <= this.lastDispatched) {
      throw new Error(`offset ${offset} dispatched after ${this.lastDispatched}`);
    }
    this.offsets.push(offset);
    this.done.push(false);
    this.lastDispatched = offset;
  }

  finish(offset: bigint): void {
    // Binary search in the live window.
    let lo = this.head;
    let hi = this.offsets.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const o = this.offsets[mid]!;
      if (o === offset) {
        this.done[mid] = true;
        this.advance();
        return;
      }
      if (o < offset) lo = mid + 1;
      else hi = mid - 1;
    }
  }

  private advance(): void {
    while (this.head < this.done.length && this.done[this.head]) this.head++;
    if (this.head > 1024 && this.head * 2 > this.offsets.length) {
      this.offsets = this.offsets.slice(this.head);
      this.done = this.done.slice(this.head);
      this.head = 0;
    }
  }

  /** Next offset to commit (Kafka convention: the next record to read), or undefined if nothing new. */
  committable(): bigint | undefined {
    const next = this.head < this.offsets.length ? this.offsets[this.head]! : this.lastDispatched === undefined ? undefined : this.lastDispatched + 1n;
    if (next === undefined || (this.committed !== undefined && next <= this.committed)) return undefined;
    return next;
  }

  markCommitted(offset: bigint): void {
    if (this.committed === undefined || offset > this.committed) this.committed = offset;
  }
}

/** Trackers for every partition of one consumer generation. */
export class OffsetTracker {
  private partitions = new Map<string, PartitionTracker>();
  private inFlightCount = 0;

  private tracker(topic: string, partition: number): PartitionTracker {
    const id = `${topic}\u0000${partition}`;
    let t = this.partitions.get(id);
    if (!t) {
      t = new PartitionTracker();
      this.partitions.set(id, t);
    }
    return t;
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  dispatch(topic: string, partition: number, offset: bigint): void {
    this.tracker(topic, partition).dispatch(offset);
    this.inFlightCount++;
  }

  finish(topic: string, partition: number, offset: bigint): void {
    this.tracker(topic, partition).finish(offset);
    this.inFlightCount--;
  }

  /** Offsets that may be committed now; call markCommitted for those Kafka acknowledged. */
  committable(): { topic: string; partition: number; offset: bigint }[] {
    const out: { topic: string; partition: number; offset: bigint }[] = [];
    for (const [id, t] of this.partitions) {
      const offset = t.committable();
      if (offset === undefined) continue;
      const [topic, partition] = id.split('\u0000') as [string, string];
      out.push({ topic, partition: Number(partition), offset });
    }
    return out;
  }

  markCommitted(topic: string, partition: number, offset: bigint): void {
    this.tracker(topic, partition).markCommitted(offset);
  }
}
