import { MtaEventCodec, type Failure, type MtaEvent, type QueuedMessage, type SmtpReply } from '@mta/contracts';
import type { OutRecord } from '@mta/kafka';
import { expiredFailure } from '@mta/retry';

/** The identity fields an event needs, from a message or a delivery. */
type MessageLike = Pick<QueuedMessage, 'messageId' | 'deliveryId' | 'tenant' | 'to' | 'validUntil' | 'lastFailure'>;

/**
 * `event: expired` (feedback turns it into status `failed`): bounce class 24 and the reason of
 * the last soft bounce the message had. `attempt` = attempts actually made.
 */
export function expiredEvent(m: MessageLike, attemptsMade: number, now: Date, opts: { failure?: Failure; smtp?: SmtpReply | undefined } = {}): MtaEvent {
  return {
    v: 1,
    messageId: m.messageId,
    deliveryId: m.deliveryId,
    ...(m.tenant !== undefined ? { tenant: m.tenant } : {}),
    recipient: m.to,
    event: 'expired',
    attempt: attemptsMade,
    timestamp: now.toISOString(),
    validUntil: m.validUntil,
    failure: opts.failure ?? expiredFailure(m.lastFailure, m.validUntil, attemptsMade),
    ...(opts.smtp ? { smtp: opts.smtp } : {}),
  };
}

export function eventRecord(topic: string, e: MtaEvent): OutRecord {
  return { topic, key: e.messageId, value: MtaEventCodec.encode(e) };
}
