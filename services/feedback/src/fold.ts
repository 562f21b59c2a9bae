import type { MtaEvent, Status, StatusRecord } from '@mta/contracts';

/** What feedback remembers of one message to keep its status honest. */
export interface MessageState {
  status: Status;
  /** Highest attempt number already reported (soft bounces, deliveries). */
  attempt: number;
  /** Events already published, to drop duplicates. */
  seen: string[];
}

export interface Folded {
  state: MessageState;
  /** The status record to publish, or undefined when the event changes nothing for Campaign. */
  publish?: StatusRecord;
}

const FINAL: ReadonlySet<Status> = new Set(['sent', 'failed']);

/**
 * Campaign's delivery-log status (BRIEF §2) as a fold over events. Pure and idempotent: a
 * duplicated or replayed event publishes nothing; a final status (sent, failed) never regresses,
 * except that an asynchronous hard bounce turns `sent` into `failed`.
 */
export function foldEvent(prev: MessageState | undefined, e: MtaEvent): Folded {
  const state: MessageState = prev ?? { status: 'taken_into_account', attempt: 0, seen: [] };
  const fingerprint = `${e.event}:${e.attempt}`;
  if (state.seen.includes(fingerprint)) return { state };
  let status: Status | undefined;
  switch (e.event) {
    case 'accepted':
      // Acceptance is news only for a message we know nothing of.
      status = prev ? undefined : 'taken_into_account';
      break;
    case 'delivered':
      status = FINAL.has(state.status) ? undefined : 'sent';
      break;
    case 'soft_bounce':
      // Status unchanged, only the reason is updated; stale once final or older than what we told.
      status = FINAL.has(state.status) || e.attempt < state.attempt ? undefined : state.status;
      break;
    case 'hard_bounce':
    case 'expired':
    case 'rejected':
      status = FINAL.has(state.status) ? undefined : 'failed';
      break;
    case 'async_bounce':
      if (state.status === 'failed') status = undefined;
      else status = e.failure?.type === 'hard' ? 'failed' : state.status;
      break;
    case 'complaint':
      // Denylisting is recorded without rewriting the delivery outcome.
      status = state.status;
      break;
    default: {
      const never: never = e.event;
      throw new Error(`unhandled event ${String(never)}`);
    }
  }
  if (status === undefined) return { state: { ...state, seen: [...state.seen, fingerprint] } };
  const next: MessageState = { status, attempt: Math.max(state.attempt, e.attempt), seen: [...state.seen, fingerprint] };
  return { state: next, publish: toStatusRecord(e, status) };
}

export function toStatusRecord(e: MtaEvent, status: Status): StatusRecord {
  const f = e.failure;
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
