import { FAILURE_REASONS, type EventName, type MtaEvent, type Status, type StatusRecord } from '@mta/contracts';

/**
 * What feedback remembers of one message to keep its status honest: four small facts, packed
 * into 13 bits by `message-store.ts`. Nothing else of a message is kept.
 */
export interface MessageState {
  status: Status;
  /** Highest attempt number already reported, plus one (0 = none); saturates at MAX_REPORTED. */
  reported: number;
  /** An asynchronous soft bounce was reported (status kept, reason updated). */
  asyncSoft: boolean;
  /** A complaint was reported ("Denylisted address"). */
  complaint: boolean;
}

export const MAX_REPORTED = 511;

export interface Folded {
  state: MessageState | undefined;
  /** The status record to publish, or undefined when the event changes nothing for Campaign. */
  publish?: StatusRecord;
}

/** The part of a status record that decides whether it is news for a message. */
export type Transition = Pick<StatusRecord, 'status' | 'event' | 'attempt'>;

const FINAL: ReadonlySet<Status> = new Set(['sent', 'failed']);

/** The status an event leads to from `current` (BRIEF §2), before deciding whether it is news. */
export function statusAfter(current: Status, event: EventName, e: Pick<MtaEvent, 'failure'>): Status {
  switch (event) {
    case 'accepted':
      return 'taken_into_account';
    case 'delivered':
      return 'sent';
    case 'soft_bounce':
      // Status unchanged, only the failure reason is updated.
      return current;
    case 'hard_bounce':
    case 'expired':
    case 'rejected':
      return 'failed';
    case 'async_bounce':
      return e.failure?.type === 'hard' ? 'failed' : current;
    case 'complaint':
      // Denylisting is recorded without rewriting the delivery outcome.
      return current;
    default: {
      const never: never = event;
      throw new Error(`unhandled event ${String(never)}`);
    }
  }
}

/**
 * Whether a status record is news for a message in state `prev`, and the state after it; the
 * single rule used both to decide what to publish and to rebuild state (and KPIs) from
 * `mta.status`. Idempotent: applying a record to the state it produced returns undefined.
 * A final status never regresses; the only move out of `sent` is an asynchronous hard bounce.
 */
export function acceptTransition(prev: MessageState | undefined, r: Transition): MessageState | undefined {
  const reported = Math.min(MAX_REPORTED, r.attempt + 1);
  if (!prev) return { status: r.status, reported, asyncSoft: r.event === 'async_bounce' && r.status !== 'failed', complaint: r.event === 'complaint' };
  const next = (status: Status, extra: Partial<MessageState> = {}): MessageState => ({
    ...prev,
    status,
    reported: Math.max(prev.reported, reported),
    ...extra,
  });
  const pending = !FINAL.has(prev.status);
  switch (r.event) {
    case 'accepted':
      // Acceptance is news only for a message we know nothing of.
      return undefined;
    case 'delivered':
      return pending && r.status === 'sent' ? next('sent') : undefined;
    case 'soft_bounce':
      // Stale once final, or when a later (or the same) attempt was already reported.
      return pending && reported > prev.reported ? next(prev.status) : undefined;
    case 'hard_bounce':
    case 'expired':
    case 'rejected':
      return pending && r.status === 'failed' ? next('failed') : undefined;
    case 'async_bounce':
      if (prev.status === 'failed') return undefined;
      if (r.status === 'failed') return next('failed');
      return prev.asyncSoft ? undefined : next(prev.status, { asyncSoft: true });
    case 'complaint':
      return prev.complaint ? undefined : next(prev.status, { complaint: true });
    default: {
      const never: never = r.event;
      throw new Error(`unhandled event ${String(never)}`);
    }
  }
}

/**
 * Campaign's delivery-log status (BRIEF §2) as a fold over events. Pure and idempotent: a
 * duplicated or replayed event publishes nothing; a final status (sent, failed) never regresses,
 * except that an asynchronous hard bounce turns `sent` into `failed`.
 */
export function foldEvent(prev: MessageState | undefined, e: MtaEvent): Folded {
  const status = statusAfter(prev?.status ?? 'taken_into_account', e.event, e);
  const state = acceptTransition(prev, { status, event: e.event, attempt: e.attempt });
  if (!state) return { state: prev };
  return { state, publish: toStatusRecord(e, state.status) };
}

export function toStatusRecord(e: MtaEvent, status: Status): StatusRecord {
  // A complaint puts the address on the denylist (BRIEF §2): its reason is always Campaign's
  // "Denylisted address", whatever qualification the event carries.
  const f =
    e.event === 'complaint'
      ? { type: 'hard' as const, bounceClass: 90 as const, category: 'complaint', message: 'feedback-loop complaint', ...e.failure, reasonCode: 8 as const, reason: FAILURE_REASONS[8] }
      : e.failure;
  return {
    v: 1,
    messageId: e.messageId,
    deliveryId: e.deliveryId,
    ...(e.tenant ? { tenant: e.tenant } : {}),
    recipient: e.recipient,
    status,
    event: e.event,
    ...(f
      ? {
          failureType: f.type,
          failureReason: f.reason,
          failureReasonCode: f.reasonCode,
          bounceClass: f.bounceClass,
          category: f.category,
          error: f.message,
        }
      : {}),
    ...(e.smtp ? { smtp: e.smtp } : {}),
    attempt: e.attempt,
    timestamp: e.timestamp,
  };
}
