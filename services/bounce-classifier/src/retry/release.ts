import { QueuedMessageCodec, RETRY_NOT_BEFORE_HEADER, RetryRecordCodec } from '@mta/contracts';
import { deadLetter, SeenWindow, type Handler, type InRecord } from '@mta/kafka';
import { placeRetry } from '@mta/retry';
import { eventRecord, expiredEvent } from './events.ts';
import { tierRecord } from './schedule.ts';

export interface ReleaseDeps {
  topics: { queue: string; events: string; deadLetter: string };
  tierTopics: readonly string[];
  tierDelaysMs: readonly number[];
  now?: () => Date;
  /** Retries already sent back to the queue (messageId:attempt), to drop a replayed duplicate. */
  released?: SeenWindow;
  onRelease?(kind: 'queued' | 'expired' | 'retiered' | 'duplicate'): void;
}

/**
 * The release time of a tier record: its header, but never later than the record's Kafka
 * timestamp plus its tier's delay (a record never legitimately waits longer in one tier), so a
 * corrupt header or a skewed clock cannot block a partition. No header: 0 (the handler decides).
 */
export function notBeforeOf(tierTopics: readonly string[], tierDelaysMs: readonly number[]): (rec: InRecord) => number {
  const delayOf = new Map(tierTopics.map((t, i) => [t, tierDelaysMs[i]!] as const));
  return (rec) => {
    const h = Number(rec.headers[RETRY_NOT_BEFORE_HEADER]);
    if (!Number.isFinite(h)) return 0;
    const appended = Number(rec.timestamp);
    const delay = delayOf.get(rec.topic);
    return delay !== undefined && Number.isFinite(appended) ? Math.min(h, appended + delay) : h;
  };
}

/**
 * What the delay consumer does with a retry record its tier released:
 * - the validity period is over → `expired` (failed, class 24, the last soft-bounce reason);
 * - due → back to `mta.queue` (key recipient domain), through the throttle again: a domain
 *   suspended there holds it without the back-off escalating (no attempt is made, so the
 *   attempt count does not grow);
 * - not due yet (a long wait crossing several tiers) → into the tier its remaining wait calls for.
 */
export function createReleaseHandler(deps: ReleaseDeps): Handler {
  const now = deps.now ?? (() => new Date());
  const released = deps.released ?? new SeenWindow(100_000, 24 * 3600_000);
  return (rec) => {
    const decoded = RetryRecordCodec.decode(rec.value);
    if (!decoded.ok) return [deadLetter(deps.topics.deadLetter, 'bounce-classifier', rec, decoded.error)];
    const r = decoded.value;
    const m = r.message;
    const t = now();
    if (t.getTime() >= Date.parse(m.validUntil)) {
      deps.onRelease?.('expired');
      return [eventRecord(deps.topics.events, expiredEvent(m, m.attempt - 1, t))];
    }
    if (placeRetry(t.getTime(), Date.parse(r.dueAt), deps.tierDelaysMs).kind === 'hold') {
      deps.onRelease?.('retiered');
      return [tierRecord(deps, r, t.getTime())];
    }
    if (released.checkAndAdd(`${m.messageId}:${m.attempt}`)) {
      deps.onRelease?.('duplicate');
      return [];
    }
    deps.onRelease?.('queued');
    return [{ topic: deps.topics.queue, key: m.recipientDomain, value: QueuedMessageCodec.encode(m) }];
  };
}
