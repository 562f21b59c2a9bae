import { expiredFailure } from '@mta/retry';
import { appendJsonFields, DeliveryCodec, MtaEventCodec, QueuedMessageCodec, failure, type Delivery, type MtaEvent, type QueuedMessage, type Topics } from '@mta/contracts';
import { deadLetter, type Handler } from '@mta/kafka';
import { WaitExpired, type Limiter } from './limiter.ts';
import type { InFlightWindow } from './window.ts';
import { ANY_IP, type Shaper } from './shaper.ts';
import type { SiteResolver } from './site.ts';

export interface ThrottleDeps {
  topics: Pick<Topics, 'deliveries' | 'events' | 'deadLetter'>;
  limiter: Limiter;
  shaper: Shaper;
  /** Optional in-flight window per lane (cap = rate × windowS, at least minWindow). */
  window?: { slots: InFlightWindow; windowS: number; minWindow?: number };
  sites: Pick<SiteResolver, 'resolve'>;
  now?: () => Date;
  /** How often a message waiting on a suspended lane (or with no usable source IP) looks again. Default 1 s. */
  recheckMs?: number;
  onReleased?(domain: string): void;
  onExpired?(): void;
}

/** Thrown into a lane's waiters by the bounce-queue action. */
export class QueueBounced extends Error {}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

function finalEvent(m: QueuedMessage, t: Date, event: 'expired' | 'hard_bounce', f: MtaEvent['failure']): MtaEvent {
  return {
    v: 1,
    messageId: m.messageId,
    deliveryId: m.deliveryId,
    ...(m.tenant ? { tenant: m.tenant } : {}),
    recipient: m.to,
    event,
    attempt: m.attempt - 1,
    timestamp: t.toISOString(),
    validUntil: m.validUntil,
    ...(f ? { failure: f } : {}),
  };
}

/**
 * Resolves the recipient domain's site (MX set), chooses the source IP, then waits for the
 * (IP, site) lane: suspended lanes hold their messages, others take a token at the lane's current
 * (adapted) rate. Released messages carry the lane's connection limits and the source IP. A
 * message whose validity ran out while it waited leaves as `expired`; a lane whose queue is
 * bounced by an automation rule fails its waiting messages as `hard_bounce` (admin failure).
 */
export function createThrottleHandler(deps: ThrottleDeps): Handler {
  const now = deps.now ?? (() => new Date());
  const recheck = deps.recheckMs ?? 1000;
  const expired = (m: QueuedMessage) => {
    deps.onExpired?.();
    // Bounce class 24 with the reason of the last soft bounce (a retried message carries it).
    const ev = finalEvent(m, now(), 'expired', expiredFailure(m.lastFailure, m.validUntil, m.attempt - 1));
    return [{ topic: deps.topics.events, key: m.messageId, value: MtaEventCodec.encode(ev) }];
  };
  return async (rec) => {
    const decoded = QueuedMessageCodec.decode(rec.value);
    if (!decoded.ok) return [deadLetter(deps.topics.deadLetter, 'throttle', rec, decoded.error)];
    const m = decoded.value;
    const validUntil = Date.parse(m.validUntil);
    const site = await deps.sites.resolve(m.recipientDomain);
    for (;;) {
      if (validUntil <= now().getTime()) return expired(m);
      const ip = deps.shaper.chooseIp(site, m.recipientDomain, m.ipPool);
      if (ip === undefined) {
        await sleep(Math.min(recheck, validUntil - now().getTime()));
        continue;
      }
      const lane = deps.shaper.lane(ip, site, m.recipientDomain);
      let lim = deps.shaper.limits(lane);
      const blockedUntil = Math.max(lim.suspendedUntil, ip === ANY_IP ? lim.disabledUntil : 0);
      if (blockedUntil > 0) {
        await sleep(Math.min(recheck, blockedUntil - now().getTime(), validUntil - now().getTime()));
        continue;
      }
      if (deps.window) {
        await deps.window.slots.acquire(lane.key, Math.max(deps.window.minWindow ?? 5, Math.ceil(lim.messagesPerSecond * deps.window.windowS)));
        lim = deps.shaper.limits(lane); // the lane may have changed while this message waited for a slot
      }
      // A message that leaves the lane without being released gives its window slot back.
      const giveBack = () => deps.window?.slots.settle(lane.key);
      if (deps.limiter.busy(lane.key)) deps.shaper.saturated(lane);
      try {
        await deps.limiter.acquire(lane.key, lim.messagesPerSecond, lim.burst, validUntil);
      } catch (err) {
        giveBack();
        if (err instanceof WaitExpired) return expired(m); // validity ended in the token queue: leave now
        if (!(err instanceof QueueBounced)) throw err;
        const ev = finalEvent(m, now(), 'hard_bounce', failure('hard', 20, 25, 'queue-bounced', err.message));
        return [{ topic: deps.topics.events, key: m.messageId, value: MtaEventCodec.encode(ev) }];
      }
      lim = deps.shaper.limits(lane);
      if (lim.suspendedUntil > 0 || (ip === ANY_IP && lim.disabledUntil > 0)) {
        giveBack();
        continue; // suspended while waiting
      }
      if (validUntil <= now().getTime()) {
        giveBack();
        return expired(m);
      }
      deps.shaper.released(lane);
      deps.onReleased?.(m.recipientDomain);
      const released: Omit<Delivery, keyof QueuedMessage> = {
        releasedAt: now().toISOString(),
        limits: { maxConnections: lim.maxConnections, messagesPerConnection: lim.messagesPerConnection },
        ...(ip !== ANY_IP ? { sourceIp: ip } : {}),
        ...(lane.resolved.tls !== undefined ? { tls: lane.resolved.tls } : {}),
      };
      // The delivery is the queued message plus the release fields: appended to the bytes as read
      // (the schema check above guarantees none of them is there), instead of re-encoding the 5 KB
      // message; the same bytes as encoding { ...m, ...released } when the input came from a codec.
      const value = (rec.value && appendJsonFields(rec.value, released)) ?? DeliveryCodec.encode({ ...m, ...released });
      return [{ topic: deps.topics.deliveries, key: m.recipientDomain, value }];
    }
  };
}
