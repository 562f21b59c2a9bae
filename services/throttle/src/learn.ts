import { AttemptCodec } from '@mta/contracts';
import type { Handler } from '@mta/kafka';
import { replyText, signalOf } from '@mta/shaping';
import { ANY_IP, laneKey, type Shaper } from './shaper.ts';
import type { SiteResolver } from './site.ts';

/**
 * The throttle's second input: every attempt on mta.attempts, mapped back to its lane by the
 * recipient domain's site (the throttle's own MX answer, so static routes in the sender do not
 * matter) and the source IP the sender used. Only replies from receiving servers are signals:
 * transport errors from our side never change a lane. Produces nothing (state changes are
 * persisted by the shaper's writer).
 */
export function createLearnHandler(deps: {
  shaper: Shaper;
  sites: Pick<SiteResolver, 'resolve'>;
  /** Whether the throttle chooses source IPs (MTA_IP_POOLS); without, every lane is ANY_IP whatever the sender reports. */
  pools?: boolean;
  onSignal?(kind: string): void;
  settle?(laneKey: string): void;
}): Handler {
  return async (rec) => {
    const d = AttemptCodec.decode(rec.value);
    if (!d.ok) return [];
    const a = d.value;
    const kind = signalOf(a);
    deps.onSignal?.(kind);
    const site = await deps.sites.resolve(a.recipientDomain);
    const ip = deps.pools ? (a.route?.sourceIp ?? a.delivery?.sourceIp ?? ANY_IP) : ANY_IP;
    // The lane is per site, or per domain when a domain rule applies.
    const key = deps.shaper.lanes.has(laneKey(ip, site.site, a.recipientDomain)) ? laneKey(ip, site.site, a.recipientDomain) : laneKey(ip, site.site);
    deps.settle?.(key); // every attempt, internal ones too, ends its message's time in flight
    if (kind === 'internal') return [];
    deps.shaper.feedback(key, { kind, startedAt: Date.parse(a.startedAt), at: Date.parse(a.finishedAt), reply: replyText(a) });
    return [];
  };
}
