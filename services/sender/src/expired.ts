import type { Attempt, Delivery } from '@mta/contracts';

/**
 * A delivery whose validity period has ended is not sent (expiry is enforced wherever a message
 * can sit, including the sender's input). It still yields an attempt record, `EEXPIRED`, carrying
 * the delivery, so the bounce-classifier reports `expired` with the last soft-bounce reason.
 */
/** The fields every attempt of a delivery starts with. */
export function attemptBase(d: Delivery, startedAt: string) {
  return {
    v: 1 as const,
    messageId: d.messageId,
    deliveryId: d.deliveryId,
    ...(d.tenant !== undefined ? { tenant: d.tenant } : {}),
    recipient: d.to,
    recipientDomain: d.recipientDomain,
    attempt: d.attempt,
    acceptedAt: d.acceptedAt,
    validUntil: d.validUntil,
    startedAt,
  };
}

export function expiredAttempt(d: Delivery, now: Date): Attempt | undefined {
  if (Date.parse(d.validUntil) > now.getTime()) return undefined;
  const at = now.toISOString();
  return {
    ...attemptBase(d, at),
    finishedAt: at,
    outcome: 'failed',
    error: { code: 'EEXPIRED', message: `not sent: validity period ended at ${d.validUntil}` },
    delivery: d,
  };
}
