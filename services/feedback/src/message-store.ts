import type { Status } from '@mta/contracts';
import { MAX_REPORTED, type MessageState } from './fold.ts';

const STATUS_CODE: Record<Status, number> = { taken_into_account: 1, sent: 2, failed: 3 };
const CODE_STATUS: (Status | undefined)[] = [undefined, 'taken_into_account', 'sent', 'failed'];
const HALF_BITS = 13;
const HALF_MASK = (1 << HALF_BITS) - 1;

/** 13 bits: status (2), asyncSoft (1), complaint (1), reported (9). 0 = no state. */
export function pack(s: MessageState | undefined): number {
  if (!s) return 0;
  return STATUS_CODE[s.status] | (s.asyncSoft ? 4 : 0) | (s.complaint ? 8 : 0) | (Math.min(s.reported, MAX_REPORTED) << 4);
}

export function unpack(bits: number): MessageState | undefined {
  const status = CODE_STATUS[bits & 3];
  if (!status) return undefined;
  return { status, asyncSoft: (bits & 4) !== 0, complaint: (bits & 8) !== 0, reported: (bits >> 4) & MAX_REPORTED };
}

/** Which of a message's two states: what the event fold has published, or what the KPIs counted. */
export type Half = 'fold' | 'view';

/**
 * Per-message state, bounded. One Map entry per message: the key (the messageId string) and one
 * small integer holding two packed states (26 bits, a V8 small integer, so no allocation per
 * value): `fold` (what the event fold has published) and `view` (what the KPIs have counted, from
 * reading mta.status). When full, the least recently written message is forgotten; the
 * `evicted` count says how often (size the store so that it stays 0 in the async-bounce window).
 */
export class MessageStore {
  private map = new Map<string, number>();
  evicted = 0;
  constructor(private readonly maxEntries: number) {}

  get(id: string, half: Half): MessageState | undefined {
    const v = this.map.get(id);
    if (v === undefined) return undefined;
    return unpack(half === 'fold' ? v & HALF_MASK : v >> HALF_BITS);
  }

  set(id: string, half: Half, s: MessageState): void {
    const v = this.map.get(id) ?? 0;
    const bits = pack(s);
    const next = half === 'fold' ? (v & ~HALF_MASK) | bits : (v & HALF_MASK) | (bits << HALF_BITS);
    if (v !== 0) this.map.delete(id);
    this.map.set(id, next);
    if (this.map.size > this.maxEntries) {
      this.map.delete(this.map.keys().next().value as string);
      this.evicted++;
    }
  }

  get size(): number {
    return this.map.size;
  }
}
