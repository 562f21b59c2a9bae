import { AttemptCodec, DeliveryCodec, type Attempt, type Delivery } from '@mta/contracts';
import { deadLetter, SeenWindow, type Handler, type InRecord, type OutRecord } from '@mta/kafka';
import { expiredAttempt } from './expired.ts';

export const dedupeKey = (messageId: string, attempt: number): string => `${messageId}:${attempt}`;

export interface SenderHandlerOptions {
  deliver: (d: Delivery) => Promise<Attempt>;
  topics: { attempts: string; deadLetter: string };
  /** Attempts already delivered (default: a 100k-entry LRU). */
  dedupe?: SeenWindow;
  service?: string;
  /** Told about every attempt produced (metrics, logs). */
  onAttempt?: (a: Attempt) => void;
  /** Told when a replayed record is skipped. */
  onDuplicate?: (d: Delivery) => void;
}

/**
 * The sender stage's handler: `mta.deliveries` record → one delivery attempt → one
 * `mta.attempts` record keyed by messageId. A record that does not decode goes to the dead
 * letter topic instead.
 *
 * Replays: Kafka delivery is at-least-once, so after a rebalance the same record
 * (messageId, attempt) can be read again. While its key is remembered here, as delivered (a
 * bounded LRU) or still being sent by this process, the replay is not sent again and produces
 * NOTHING: the first copy's attempt record is (or will be) produced by the handler call that
 * sent it, and the stage keeps retrying that produce. A replay of an attempt that failed is sent
 * again (a second try of a failed attempt is harmless). The memory does not survive a restart:
 * a record replayed after a crash is sent again.
 */
export function createSenderHandler(opts: SenderHandlerOptions): Handler {
  const service = opts.service ?? 'sender';
  const dedupe = opts.dedupe ?? new SeenWindow(100_000, Infinity);
  const inFlight = new Set<string>();

  return async (rec: InRecord): Promise<OutRecord[]> => {
    const decoded = DeliveryCodec.decode(rec.value);
    if (!decoded.ok) {
      const { code, message, path } = decoded.error;
      return [deadLetter(opts.topics.deadLetter, service, rec, { code, message: `${service}: ${message}`, ...(path ? { field: path } : {}) })];
    }
    const d = decoded.value;
    const expired = expiredAttempt(d, new Date());
    if (expired) return [{ topic: opts.topics.attempts, key: d.messageId, value: AttemptCodec.encode(expired) }];
    const key = dedupeKey(d.messageId, d.attempt);
    if (inFlight.has(key) || dedupe.has(key)) {
      opts.onDuplicate?.(d);
      return [];
    }
    inFlight.add(key);
    let attempt: Attempt;
    try {
      attempt = await opts.deliver(d);
    } finally {
      inFlight.delete(key);
    }
    if (attempt.outcome === 'delivered') dedupe.add(key);
    else attempt = { ...attempt, delivery: d }; // carried so the bounce-classifier can schedule the retry
    opts.onAttempt?.(attempt);
    return [{ topic: opts.topics.attempts, key: attempt.messageId, value: AttemptCodec.encode(attempt) }];
  };
}
