/**
 * A bounded LRU set of keys (`messageId:attempt` of attempts already delivered). Memory only:
 * it protects against replays within one process (a rebalance re-reading uncommitted records),
 * not across restarts.
 */
export interface Dedupe {
  has(key: string): boolean;
  add(key: string): void;
  readonly size: number;
}

export function createDedupe(maxEntries = 100_000): Dedupe {
  const keys = new Set<string>();
  return {
    has(key) {
      if (!keys.has(key)) return false;
      // Refresh its position: a Set iterates in insertion order, the first one is the oldest.
      keys.delete(key);
      keys.add(key);
      return true;
    },
    add(key) {
      if (maxEntries <= 0) return;
      if (keys.has(key)) keys.delete(key);
      else if (keys.size >= maxEntries) {
        const oldest = keys.values().next();
        if (!oldest.done) keys.delete(oldest.value);
      }
      keys.add(key);
    },
    get size() {
      return keys.size;
    },
  };
}

export const dedupeKey = (messageId: string, attempt: number): string => `${messageId}:${attempt}`;
