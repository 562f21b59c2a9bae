/**
 * A bounded "have I seen this id recently?" window, used to drop replays of records that
 * at-least-once delivery hands a service twice. Insertion-ordered Map: oldest entries are evicted
 * first once `maxEntries` is reached or they are older than `maxAgeMs`.
 */
export class SeenWindow {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly maxEntries: number,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** True if `id` was already recorded inside the window; records it otherwise. */
  checkAndAdd(id: string): boolean {
    const t = this.now();
    this.evict(t);
    if (this.seen.has(id)) return true;
    this.seen.set(id, t);
    return false;
  }

  has(id: string): boolean {
    this.evict(this.now());
    return this.seen.has(id);
  }

  add(id: string): void {
    const t = this.now();
    this.evict(t);
    this.seen.delete(id);
    this.seen.set(id, t);
  }

  get size(): number {
    return this.seen.size;
  }

  private evict(t: number): void {
    while (this.seen.size > 0) {
      const [id, at] = this.seen.entries().next().value as [string, number];
      if (this.seen.size < this.maxEntries && t - at <= this.maxAgeMs) break;
      this.seen.delete(id);
    }
  }
}
