import {
  chooseSourceIp,
  countSent,
  effectiveLimits,
  markSaturated,
  newLane,
  observe,
  operatorResume,
  operatorSuspend,
  operatorSuspendUntil,
  resolve,
  sentToday,
  warmupAllowance,
  type Effect,
  type EffectiveLimits,
  type Feedback,
  type LaneContext,
  type LaneState,
  type Resolved,
  type ShapingRules,
} from '@mta/shaping';
import type { IpPools } from '@mta/config';
import type { Site } from './site.ts';

/** Source address placeholder when no IP pools are configured (the OS picks the address). */
export const ANY_IP = '-';

export interface Lane {
  key: string;
  ip: string;
  site: string;
  hosts: string[];
  /** Set when a domain rule gives the domain its own lane. */
  domain?: string;
  resolved: Resolved;
  ctx: LaneContext;
  state: LaneState;
}

export interface LearnedRecord {
  v: 1;
  kind?: 'lane';
  key: string;
  ip: string;
  site: string;
  owner: string;
  updatedAt: string;
  state: LaneState;
}

/** Which lanes an operator command is about: exact key, site, provider name; optionally one source IP. */
export interface Selector {
  key?: string;
  site?: string;
  provider?: string;
  ip?: string;
}

/**
 * An operator's suspend/resume, broadcast on the state topic (key `cmd|<selector>`) so that
 * every throttle instance applies it to the lanes it holds, and to lanes it creates later while
 * the suspension lasts (compaction keeps the last command per selector: a restarted instance
 * replays it).
 */
export interface OperatorCommand {
  v: 1;
  kind: 'command';
  key: string;
  action: 'suspend' | 'resume';
  selector: Selector;
  /** Suspend: until when (ms since epoch). */
  until?: number;
  by: string;
  at: string;
  owner: string;
}

export const selectorKey = (sel: Selector): string => `cmd|${JSON.stringify([sel.key ?? null, sel.site ?? null, sel.provider ?? null, sel.ip ?? null])}`;

export function laneMatches(l: Pick<Lane, 'key' | 'site' | 'ip' | 'resolved'>, sel: Selector): boolean {
  return (
    (sel.key === undefined || l.key === sel.key) &&
    (sel.site === undefined || l.site === sel.site) &&
    (sel.provider === undefined || l.resolved.provider === sel.provider) &&
    (sel.ip === undefined || l.ip === sel.ip)
  );
}

export function laneKey(ip: string, site: string, domain?: string): string {
  return domain === undefined ? `${ip}|${site}` : `${ip}|${site}|${domain}`;
}

export interface ShaperOptions {
  rules: () => ShapingRules;
  pools?: IpPools | undefined;
  /** Identifies this instance on the state topic. */
  owner: string;
  now?: () => number;
  /** A lane's learned state changed (persist it). */
  onChange?(lane: Lane, reason: string): void;
  /** An automation rule asked to bounce the lane's queue. */
  onBounceQueue?(lane: Lane, reason: string): void;
  /** A lane's rate changed (re-time its waiters). */
  onLimits?(lane: Lane, limits: EffectiveLimits): void;
  /** Messages are waiting for the lane now (demand above its rate). */
  busy?(key: string): boolean;
  /** An operator command to broadcast to the other instances (the state topic). */
  onCommand?(cmd: OperatorCommand): void;
}

/**
 * The throttle's lanes, one per (sending IP, site) (or per domain when a domain rule applies):
 * resolved rules, learned state, adaptation from attempts, warm-up and source IP choice. All
 * decisions are the pure functions of @mta/shaping; this class only keeps the map.
 */
export class Shaper {
  readonly lanes = new Map<string, Lane>();
  /** State learned by any instance, from the compacted topic: a new lane starts from it. */
  readonly learned = new Map<string, LearnedRecord>();
  /** Operator suspensions in force, by selector: lanes created later while they last start suspended. */
  readonly standing = new Map<string, OperatorCommand>();
  private turn = 0;
  private readonly now: () => number;

  constructor(private readonly opts: ShaperOptions) {
    this.now = opts.now ?? Date.now;
  }

  lane(ip: string, site: Site, domain: string): Lane {
    const rules = this.opts.rules();
    const resolved = resolve(rules, { domain, mxHosts: site.hosts, sourceIp: ip === ANY_IP ? undefined : ip });
    const own = resolved.domainRule !== undefined ? domain : undefined;
    const key = laneKey(ip, site.site, own);
    let lane = this.lanes.get(key);
    if (!lane) {
      const ctx: LaneContext = { knobs: resolved.knobs, adaptive: resolved.adaptive, automation: resolved.automation, ratios: rules.ratios };
      // Learned state (rate, last healthy rate, suspensions, warm-up counts); fields a record predates keep their initial values.
      const learned = this.learned.get(key)?.state;
      lane = { key, ip, site: site.site, hosts: site.hosts, ...(own ? { domain: own } : {}), resolved, ctx, state: learned ? { ...newLane(ctx, this.now()), ...learned, hits: {} } : newLane(ctx, this.now()) };
      this.lanes.set(key, lane);
      const now = this.now();
      for (const c of this.standing.values()) {
        if (c.until !== undefined && c.until > now && lane.state.suspendedUntil < c.until && laneMatches(lane, c.selector)) {
          lane.state = operatorSuspendUntil(lane.state, now, c.until, `operator${c.by ? ` ${c.by}` : ''}`);
        }
      }
    }
    return lane;
  }

  limits(lane: Lane): EffectiveLimits {
    return effectiveLimits(lane.state, lane.ctx, this.now());
  }

  /**
   * The source IP for a message to `site`: from its pool (request's ipPool, else "default"),
   * new IPs first within their warm-up allowance, else warm IPs in turn; disabled and suspended
   * IPs are skipped. ANY_IP without pools; undefined = none may send now.
   */
  chooseIp(site: Site, domain: string, pool: string | undefined): string | undefined {
    const pools = this.opts.pools;
    if (!pools || pools.size === 0) return ANY_IP;
    const members = pools.get(pool ?? 'default') ?? pools.values().next().value ?? [];
    const now = this.now();
    const rules = this.opts.rules();
    const candidates = members.map(({ ip }) => {
      const lane = this.lane(ip, site, domain);
      const lim = this.limits(lane);
      const allowance = warmupAllowance(lane.resolved.warmup, rules.sourceIps.get(ip)?.warmupStart, now);
      return { ip, left: allowance === undefined ? undefined : allowance - sentToday(lane.state, now), unavailable: lim.disabledUntil > 0 || lim.suspendedUntil > 0 };
    });
    return chooseSourceIp(candidates, this.turn++);
  }

  released(lane: Lane): void {
    lane.state = countSent(lane.state, this.now());
  }

  saturated(lane: Lane): void {
    lane.state = markSaturated(lane.state);
  }

  /** One attempt's feedback for a lane this instance holds; false if it holds none. */
  feedback(key: string, fb: Feedback): Effect[] {
    const lane = this.lanes.get(key);
    if (!lane) return [];
    const before = this.limits(lane);
    if (this.opts.busy?.(key)) lane.state = markSaturated(lane.state);
    const r = observe(lane.state, fb, lane.ctx);
    lane.state = r.state;
    for (const e of r.effects) {
      if (e.type === 'changed') this.opts.onChange?.(lane, e.reason);
      else this.opts.onBounceQueue?.(lane, e.reason);
    }
    const after = this.limits(lane);
    if (after.messagesPerSecond !== before.messagesPerSecond || after.burst !== before.burst) this.opts.onLimits?.(lane, after);
    return r.effects;
  }

  /** Lanes matching an operator selector: exact key, site, provider name, or recipient domain; optionally one IP. */
  select(sel: Selector): Lane[] {
    return [...this.lanes.values()].filter((l) => laneMatches(l, sel));
  }

  /**
   * An operator's suspend (for durationS) or resume of the lanes a selector names: applied here at
   * once and broadcast (onCommand) so every instance applies it to its own lanes. Returns the
   * lanes of this instance it changed.
   */
  operator(action: 'suspend' | 'resume', selector: Selector, by: string, durationS = 0): Lane[] {
    const now = this.now();
    const cmd: OperatorCommand = { v: 1, kind: 'command', key: selectorKey(selector), action, selector, ...(action === 'suspend' ? { until: now + durationS * 1000 } : {}), by, at: new Date(now).toISOString(), owner: this.opts.owner };
    const lanes = this.command(cmd);
    this.opts.onCommand?.(cmd);
    return lanes;
  }

  /** An operator command (this instance's, or another's from the state topic): idempotent. */
  command(cmd: OperatorCommand): Lane[] {
    const now = this.now();
    const who = `operator${cmd.by ? ` ${cmd.by}` : ''}`;
    const lanes = this.select(cmd.selector);
    if (cmd.action === 'suspend') {
      if (cmd.until === undefined || cmd.until <= now) return [];
      this.standing.set(cmd.key, cmd);
      for (const l of lanes.filter((x) => x.state.suspendedUntil < cmd.until!)) {
        l.state = operatorSuspendUntil(l.state, now, cmd.until, who);
        this.opts.onChange?.(l, l.state.reason);
      }
      return lanes;
    }
    // A resume ends the standing suspension of the same selector, and the suspensions of the lanes it names.
    this.standing.delete(cmd.key);
    this.resume(lanes.filter((l) => l.state.suspendedUntil > now || l.state.disabledUntil > now), who);
    return lanes;
  }

  suspend(lanes: Lane[], durationS: number, who: string): void {
    for (const l of lanes) {
      l.state = operatorSuspend(l.state, this.now(), durationS, who);
      this.opts.onChange?.(l, l.state.reason);
    }
  }

  resume(lanes: Lane[], who: string): void {
    for (const l of lanes) {
      l.state = operatorResume(l.state, this.now(), who);
      this.opts.onChange?.(l, l.state.reason);
      this.opts.onLimits?.(l, this.limits(l));
    }
  }

  record(lane: Lane): LearnedRecord {
    return { v: 1, key: lane.key, ip: lane.ip, site: lane.site, owner: this.opts.owner, updatedAt: new Date(this.now()).toISOString(), state: lane.state };
  }

  /** A record from the state topic: remembered; a lane not held here yet will start from it. */
  learn(rec: LearnedRecord): void {
    if (rec.owner === this.opts.owner) return;
    this.learned.set(rec.key, rec);
  }
}
