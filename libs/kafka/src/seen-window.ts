/**
 * A bounded "have I seen this id recently?" window, used to drop replays of records that
 * at-least-once delivery hands a service twice (ingest: messageIds; sender: delivered attempts).
 * Insertion-ordered Map: the least recently recorded (or hit, through `has`) entries are evicted
 * first once `maxEntries` is reached or they are older than `maxAgeMs`. `maxEntries` 0 remembers
 * nothing. Held in memory; `rebuildSeenWindow` (seen-rebuild.ts) refills it at start-up from what
 * the service produced before a restart.
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
    if (this.maxEntries <= 0) return false;
    const t = this.now();
    this.evict(t, false);
    if (this.seen.has(id)) return true;
    this.evict(t, true);
    this.seen.set(id, t);
    return false;
  }

  /** True if `id` is inside the window; a hit refreshes its entry (least recently used goes first). */
  has(id: string): boolean {
    const t = this.now();
    this.evict(t, false);
    if (!this.seen.has(id)) return false;
    this.seen.delete(id);
    this.seen.set(id, t);
    return true;
  }

  add(id: string): void {
    if (this.maxEntries <= 0) return;
    const t = this.now();
    this.seen.delete(id);
    this.evict(t, true);
    this.seen.set(id, t);
  }

  /**
   * Records `id` as seen at `at` (a rebuild from Kafka after a restart, in time order): entries
   * already older than the window are skipped.
   */
  addAt(id: string, at: number): void {
    if (this.maxEntries <= 0 || this.now() - at > this.maxAgeMs) return;
    this.seen.delete(id);
    this.evict(this.now(), true);
    this.seen.set(id, at);
  }

  get size(): number {
    return this.seen.size;
  }

  /** Drops entries older than the window, and the oldest ones when `makeRoom` for one more. */
  private evict(t: number, makeRoom: boolean): void {
    while (this.seen.size > 0) {
      const [id, at] = this.seen.entries().next().value as [string, number];
      const full = makeRoom && this.seen.size >= this.maxEntries;
      if (!full && t - at <= this.maxAgeMs) break;
      this.seen.delete(id);
    }
  }
}
