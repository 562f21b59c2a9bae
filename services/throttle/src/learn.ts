import { AttemptCodec, MtaEventCodec } from '@mta/contracts';
import type { Handler, InRecord } from '@mta/kafka';
import { replyText, signalOf } from '@mta/shaping';
import { ANY_IP, laneKey, type Shaper } from './shaper.ts';
import type { SiteResolver } from './site.ts';

export interface LearnDeps {
  shaper: Shaper;
  sites: Pick<SiteResolver, 'resolve'>;
  /** Whether the throttle chooses source IPs (MTA_IP_POOLS); without, every lane is ANY_IP whatever the sender reports. */
  pools?: boolean;
  /** mta.events: complaints are read from it (every other event is skipped unparsed). */
  eventsTopic?: string;
  onSignal?(kind: string): void;
  settle?(laneKey: string): void;
}

/** Cheap pre-filter: mta.events carries every event of every message; only complaints are decoded. */
const COMPLAINT = Buffer.from('"event":"complaint"');

/**
 * The throttle's learning input:
 * - every attempt on mta.attempts, mapped back to its lane by the recipient domain's site (the
 *   throttle's own MX answer, so static routes in the sender do not matter) and the source IP the
 *   sender used. Only replies from receiving servers are signals: transport errors from our side
 *   never change a lane.
 * - every complaint on mta.events (the classifier's feedback-loop reports), charged to the lane
 *   of the recipient's site and the sending IP the report names (ARF Source-IP; without pools,
 *   or when the report names none, the lane without a source IP): the complaint ratio rule.
 * Produces nothing (state changes are persisted by the shaper's writer).
 */
export function createLearnHandler(deps: LearnDeps): Handler {
  const keyOf = async (domain: string, sourceIp: string | undefined) => {
    const site = await deps.sites.resolve(domain);
    const ip = deps.pools ? (sourceIp ?? ANY_IP) : ANY_IP;
    // The lane is per site, or per domain when a domain rule applies.
    return deps.shaper.lanes.has(laneKey(ip, site.site, domain)) ? laneKey(ip, site.site, domain) : laneKey(ip, site.site);
  };
  const complaint = async (rec: InRecord) => {
    if (!rec.value || rec.value.indexOf(COMPLAINT) < 0) return [];
    const d = MtaEventCodec.decode(rec.value);
    if (!d.ok || d.value.event !== 'complaint') return [];
    const e = d.value;
    const domain = e.recipient.slice(e.recipient.lastIndexOf('@') + 1).toLowerCase();
    if (!domain) return [];
    deps.onSignal?.('complaint');
    const at = Date.parse(e.timestamp);
    deps.shaper.feedback(await keyOf(domain, e.sourceIp), { kind: 'complaint', startedAt: at, at: Number.isNaN(at) ? Date.now() : at });
    return [];
  };
  return async (rec) => {
    if (deps.eventsTopic !== undefined && rec.topic === deps.eventsTopic) return complaint(rec);
    const d = AttemptCodec.decode(rec.value);
    if (!d.ok) return [];
    const a = d.value;
    const kind = signalOf(a);
    deps.onSignal?.(kind);
    const key = await keyOf(a.recipientDomain, a.route?.sourceIp ?? a.delivery?.sourceIp);
    deps.settle?.(key); // every attempt, internal ones too, ends its message's time in flight
    if (kind === 'internal') return [];
    const releasedAt = a.delivery ? Date.parse(a.delivery.releasedAt) : NaN;
    deps.shaper.feedback(key, { kind, startedAt: Date.parse(a.startedAt), at: Date.parse(a.finishedAt), reply: replyText(a), ...(Number.isNaN(releasedAt) ? {} : { releasedAt }) });
    return [];
  };
}
