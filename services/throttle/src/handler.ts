import { DeliveryCodec, MtaEventCodec, QueuedMessageCodec, failure, type Delivery, type MtaEvent, type Topics } from '@mta/contracts';
import { deadLetter, type Handler } from '@mta/kafka';
import type { Limiter } from './limiter.ts';
import { limitsFor, type LimitRules } from './limits.ts';

export interface ThrottleDeps {
  topics: Pick<Topics, 'deliveries' | 'events' | 'deadLetter'>;
  limiter: Limiter;
  rules: () => LimitRules;
  now?: () => Date;
  onReleased?(domain: string): void;
  onExpired?(): void;
}

/**
 * Waits for the recipient domain's token, then releases the message to the sender with the
 * domain's connection limits. A message whose validity ran out while it waited leaves as
 * `expired` instead (expiry is enforced wherever a message can sit).
 */
export function createThrottleHandler(deps: ThrottleDeps): Handler {
  const now = deps.now ?? (() => new Date());
  return async (rec) => {
    const decoded = QueuedMessageCodec.decode(rec.value);
    if (!decoded.ok) return [deadLetter(deps.topics.deadLetter, 'throttle', rec, decoded.error)];
    const m = decoded.value;
    const limits = limitsFor(m.recipientDomain, deps.rules());
    if (Date.parse(m.validUntil) > now().getTime()) await deps.limiter.acquire(m.recipientDomain, limits.messagesPerSecond, limits.burst);
    const t = now();
    if (Date.parse(m.validUntil) <= t.getTime()) {
      deps.onExpired?.();
      const event: MtaEvent = {
        v: 1,
        messageId: m.messageId,
        deliveryId: m.deliveryId,
        ...(m.tenant ? { tenant: m.tenant } : {}),
        recipient: m.to,
        event: 'expired',
        attempt: m.attempt - 1,
        timestamp: t.toISOString(),
        validUntil: m.validUntil,
        failure: failure('soft', 3, 24, 'message-expired', `validity ended at ${m.validUntil} before attempt ${m.attempt} could be made`),
      };
      return [{ topic: deps.topics.events, key: m.messageId, value: MtaEventCodec.encode(event) }];
    }
    deps.onReleased?.(m.recipientDomain);
    const delivery: Delivery = {
      ...m,
      releasedAt: t.toISOString(),
      limits: { maxConnections: limits.maxConnections, messagesPerConnection: limits.messagesPerConnection },
    };
    return [{ topic: deps.topics.deliveries, key: m.recipientDomain, value: DeliveryCodec.encode(delivery) }];
  };
}
