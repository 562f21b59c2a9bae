import { randomUUID } from 'node:crypto';
import type { QueuedMessage } from '@mta/contracts';

/** A structured message queued for `user<i>@<domain>`, valid for an hour (the throttle tests' input). */
export const queued = (i: number, domain: string): QueuedMessage => ({
  v: 1,
  messageId: `m-${i}-${randomUUID()}`,
  deliveryId: 'd1',
  from: 'news@brand.example',
  mailFrom: 'bounce@brand.example',
  to: `user${i}@${domain}`,
  recipientDomain: domain,
  content: { kind: 'structured', subject: 's', text: 't' },
  acceptedAt: new Date().toISOString(),
  validUntil: new Date(Date.now() + 3600_000).toISOString(),
  attempt: 1,
});
