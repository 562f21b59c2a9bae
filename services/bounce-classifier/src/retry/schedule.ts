import { RETRY_NOT_BEFORE_HEADER, RetryRecordCodec, type Attempt, type Delivery, type MtaEvent, type QueuedMessage, type RetryRecord } from '@mta/contracts';
import type { OutRecord } from '@mta/kafka';
import { exhaustedFailure, nextAttemptAt, placeRetry, type RetryPolicy } from '@mta/retry';
import { eventRecord, expiredEvent } from './events.ts';

export interface RetrySchedulerDeps {
  eventsTopic: string;
  /** Tier topics, shortest delay first, and their delays (ms). */
  tierTopics: readonly string[];
  tierDelaysMs: readonly number[];
  policy: () => RetryPolicy;
  now?: () => Date;
  /** Told what became of each soft bounce: retry, wait-for-expiry, expired, exhausted, unschedulable. */
  onDecision?(kind: string): void;
}

export interface RetryScheduler {
  /** The sender refused an attempt because its validity had ended: the `expired` event, else undefined. */
  expiredBySender(a: Attempt): OutRecord[] | undefined;
  /** A soft (or ignored) failure: the soft_bounce event (with `nextAttemptAt`) and the retry record, or `expired`. */
  softBounce(a: Attempt, event: MtaEvent): OutRecord[];
}

/** nodemailer-style error code the sender gives an attempt it refused because the validity had ended. */
export const EXPIRED_ERROR_CODE = 'EEXPIRED';

/** The delivery turned back into a queue record for attempt `next`, carrying the failure that caused it. */
export function requeued(d: Delivery, next: number, lastFailure: MtaEvent['failure']): QueuedMessage {
  const { releasedAt: _r, limits: _l, sourceIp: _s, tls: _t, ...message } = d;
  return { ...message, attempt: next, ...(lastFailure ? { lastFailure } : {}) };
}

/**
 * The soft-bounce branch of the classifier: decide the next attempt time (pure, @mta/retry) and
 * turn the decision into records. The retry record goes to the tier topic for its wait; the
 * delay-topic consumer (release.ts) brings it back to `mta.queue` when due.
 */
export function createRetryScheduler(deps: RetrySchedulerDeps): RetryScheduler {
  const now = deps.now ?? (() => new Date());
  return {
    expiredBySender(a) {
      if (a.outcome !== 'failed' || a.error?.code !== EXPIRED_ERROR_CODE) return undefined;
      deps.onDecision?.('expired');
      const m = a.delivery ?? { messageId: a.messageId, deliveryId: a.deliveryId, tenant: a.tenant, to: a.recipient, validUntil: a.validUntil };
      return [eventRecord(deps.eventsTopic, expiredEvent(m, a.attempt - 1, now()))];
    },

    softBounce(a, event) {
      const t = now();
      const f = event.failure;
      const d = a.delivery;
      if (!f || !d) {
        // An attempt without its delivery (an older sender) cannot be rescheduled: report it as is.
        deps.onDecision?.('unschedulable');
        return [eventRecord(deps.eventsTopic, event)];
      }
      const next = nextAttemptAt({
        now: t,
        attempt: a.attempt,
        category: f.category,
        domain: a.recipientDomain,
        mxHost: a.route?.host,
        validUntil: new Date(a.validUntil),
        policy: deps.policy(),
        jitterSeed: a.messageId,
      });
      deps.onDecision?.(next.kind);
      const withLast = { ...d, lastFailure: f };
      switch (next.kind) {
        case 'expired':
          return [eventRecord(deps.eventsTopic, expiredEvent(withLast, a.attempt, t, { smtp: event.smtp }))];
        case 'exhausted':
          return [
            eventRecord(deps.eventsTopic, expiredEvent(withLast, a.attempt, t, { smtp: event.smtp, failure: exhaustedFailure(f, next.rule.schedule.text, a.attempt) })),
          ];
        case 'retry':
        case 'wait-for-expiry': {
          const soft: MtaEvent = next.kind === 'retry' ? { ...event, nextAttemptAt: next.at.toISOString() } : event;
          const record: RetryRecord = { v: 1, message: requeued(d, a.attempt + 1, f), dueAt: next.at.toISOString(), scheduledAt: t.toISOString() };
          return [eventRecord(deps.eventsTopic, soft), tierRecord(deps, record, t.getTime())];
        }
        default: {
          const never: never = next;
          throw new Error(`unhandled retry decision ${JSON.stringify(never)}`);
        }
      }
    },
  };
}

/** A retry record on the tier topic its remaining wait calls for, with its release time as a header. */
export function tierRecord(deps: Pick<RetrySchedulerDeps, 'tierTopics' | 'tierDelaysMs'>, record: RetryRecord, now: number): OutRecord {
  const p = placeRetry(now, Date.parse(record.dueAt), deps.tierDelaysMs);
  // A record already due still goes through the smallest tier (released at once), so that only
  // the delay consumer ever writes to the queue.
  const index = p.kind === 'hold' ? p.tier.index : 0;
  const notBefore = p.kind === 'hold' ? p.notBefore : now;
  return {
    topic: deps.tierTopics[index]!,
    key: record.message.messageId,
    value: RetryRecordCodec.encode(record),
    headers: { [RETRY_NOT_BEFORE_HEADER]: String(notBefore) },
  };
}
