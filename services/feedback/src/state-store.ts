import type { MessageState } from './fold.ts';

/**
 * Per-message state, bounded: least recently touched messages are forgotten first. A message
 * forgotten (or a restart) falls back to folding from an empty state, which can only repeat a
 * status Campaign already has, never invent a regression for a message it still remembers.
 */
export class StateStore {
  private map = new Map<string, MessageState>();
  constructor(private readonly maxEntries: number) {}

  get(id: string): MessageState | undefined {
    return this.map.get(id);
  }

  set(id: string, s: MessageState): void {
    this.map.delete(id);
    this.map.set(id, s);
    if (this.map.size > this.maxEntries) this.map.delete(this.map.keys().next().value as string);
  }

  get size(): number {
    return this.map.size;
  }
}
