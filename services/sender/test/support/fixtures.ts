import type { Delivery } from '@mta/contracts';

let n = 0;

/** A valid Delivery record; override any field. */
export function delivery(over: Partial<Delivery> = {}): Delivery {
  n++;
  const to = over.to ?? `user${n}@example.test`;
  return {
    v: 1,
    messageId: `msg-${n}-${process.pid}`,
    deliveryId: 'dlv-1',
    from: 'Campaign <news@sender.test>',
    mailFrom: 'bounce@sender.test',
    to,
    recipientDomain: to.slice(to.lastIndexOf('@') + 1).toLowerCase(),
    content: { kind: 'structured', subject: 'Hello', text: 'Hello there', html: '<p>Hello there</p>', headers: { 'X-Campaign': 'c1' } },
    acceptedAt: '2025-01-01T00:00:00.000Z',
    validUntil: '2099-01-04T12:00:00.000Z', // far ahead: the sender refuses expired deliveries
    attempt: 1,
    releasedAt: '2025-01-01T00:00:01.000Z',
    limits: { maxConnections: 2, messagesPerConnection: 100 },
    ...over,
  };
}
