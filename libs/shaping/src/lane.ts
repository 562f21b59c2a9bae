import { assertNever, describeAction, type Action, type AutomationRule } from './actions.ts';
import type { Adaptive, Knobs } from './knobs.ts';
import type { Ratios } from './rules.ts';
import type { SignalKind } from './signal.ts';
import { dayOf } from './warmup.ts';

/**
 * The learned state of one (sending IP, site) lane: plain data, persisted on the compacted
 * shaping-state topic, and changed only by the pure functions below.
 */
export interface LaneState {
  /** Adapted message rate (msg/s). */
  rate: number;
  /** Connections cap set by an action (0 = none). */
  connCap: number;
  connCapUntil: number;
  /**
   * slow-start: until the first deferral the rate grows × slowStart per healthy interval;
   * recovery: after a decrease, × recovery per healthy interval up to `lastGood`; steady: additive.
   */
  phase: 'slow-start' | 'recovery' | 'steady';
  /**
   * The last rate known to be healthy (a full interval delivered at it without deferral), the
   * target of recovery after a decrease (TCP's ssthresh); 0 = none known yet. A run of
   * decreases without a healthy interval between them (a block, a suspension) keeps it; a
   * deferral at or below it when the lane was not backing off lowers it (the receiver changed).
   */
  lastGood: number;
  /**
   * The rate the receiver last refused (the rate of the first decrease of a run; 0 = none yet).
   * Additive probing within `decrease` × of it, or above it, waits PROBE_INTERVALS intervals per
   * step: a receiver's burst allowance hides an overshoot until it is spent, so near a known
   * refusal the lane climbs slowly (the plateau of TCP CUBIC around its last W_max).
   */
  ceiling: number;
  /** The last change was a decrease (a run of decreases keeps `lastGood`). */
  backingOff: boolean;
  /** Last change of the limits (ms) and why. */
  changedAt: number;
  reason: string;
  /** No sending until then (suspend action, ratio rule, operator). */
  suspendedUntil: number;
  /** This source IP must not be used for the site until then. */
  disabledUntil: number;
  /** No increases until then (after lower-rate). */
  holdUntil: number;
  /**
   * Evidence of the current evaluation window: deliveries that finished in it; deferrals and
   * blocks of attempts started after the last change (a window ends with a change, or, when an
   * interval brought no change, the evidence starts over so it is always about recent traffic).
   */
  since: { delivered: number; deferrals: number; blocks: number; lastReply?: string };
  /** Start of the evaluation window (ms). */
  windowAt: number;
  /**
   * Deliveries since the last decrease, while the lane stayed saturated (an interval without
   * demand above the rate starts it over): what the receiver accepted over a span longer than one
   * interval, the measure of its sustained limit when it refuses next (`acceptedRate`).
   */
  epoch: { at: number; delivered: number };
  /** Demand exceeded the rate in the window (messages had to wait). */
  saturated: boolean;
  /** Automation trigger hits per rule id (times, ms). */
  hits: Record<string, number[]>;
  /** Automation actions in force, per rule id: until (ms). A rule does not fire again while its action is in force. */
  active: Record<string, number>;
  /** Ratio window (tumbling). */
  ratio: { start: number; attempts: number; invalid: number; delivered: number; complaints: number; throttled: boolean };
  /** Warm-up: messages sent on `day`. */
  day: number;
  sentToday: number;
}

export interface LaneContext {
  knobs: Knobs;
  adaptive: Adaptive;
  automation: readonly AutomationRule[];
  ratios: Ratios;
}

export interface Feedback {
  kind: SignalKind | 'complaint';
  /** When the attempt started and finished (ms). */
  startedAt: number;
  at: number;
  /**
   * When the throttle released the message (ms; refusals carry it): a refusal counts for the
   * lane's current rate only if the message was released at that rate, i.e. after the last change.
   * Messages released before it and still in the pipeline (the sender's queue, Kafka) say nothing
   * about the new rate. Without it, the attempt's start is used.
   */
  releasedAt?: number | undefined;
  /** The remote reply text, for automation patterns. */
  reply?: string | undefined;
}

export type Effect = { type: 'changed'; reason: string } | { type: 'bounce-queue'; reason: string };

export function newLane(ctx: LaneContext, now: number): LaneState {
  return {
    rate: ctx.knobs.messagesPerSecond,
    connCap: 0,
    connCapUntil: 0,
    phase: ctx.adaptive.slowStart > 1 ? 'slow-start' : 'steady',
    lastGood: 0,
    ceiling: 0,
    backingOff: false,
    changedAt: now,
    reason: 'initial limits from the rules',
    suspendedUntil: 0,
    disabledUntil: 0,
    holdUntil: 0,
    since: { delivered: 0, deferrals: 0, blocks: 0 },
    windowAt: now,
    epoch: { at: now, delivered: 0 },
    saturated: false,
    hits: {},
    active: {},
    ratio: { start: now, attempts: 0, invalid: 0, delivered: 0, complaints: 0, throttled: false },
    day: dayOf(now),
    sentToday: 0,
  };
}

const round = (n: number) => Math.round(n * 100) / 100;
const clampRate = (r: number, a: Adaptive) => Math.min(a.maxRate, Math.max(a.minRate, r));
const short = (s: string | undefined) => (s === undefined ? '' : ` (last: "${s.length > 80 ? `${s.slice(0, 80)}…` : s}")`);

function changed(s: LaneState, now: number, reason: string, patch: Partial<LaneState>): LaneState {
  return { ...s, ...patch, changedAt: now, reason, since: { delivered: 0, deferrals: 0, blocks: 0 }, windowAt: now, saturated: false };
}

/** Intervals an epoch must span before its accepted rate is taken as the receiver's limit. */
export const EPOCH_INTERVALS = 2;

/**
 * The rate the receiver accepted since the last decrease, while messages were waiting all along
 * (demand above the rate): deliveries over the span, once the span is at least EPOCH_INTERVALS
 * intervals long (undefined before, or when the current window had no waiting messages). A
 * receiver's burst allowance (a token bucket's depth, a per-minute quota) can carry a rate above
 * its sustained limit through one interval, never through a long span: over a span S that ends
 * with its refusals, a bucket of depth D seconds accepted at most limit × (1 + D / S).
 */
export function acceptedRate(s: LaneState, now: number, a: Adaptive): number | undefined {
  const spanS = (now - s.epoch.at) / 1000;
  if (!s.saturated || spanS < EPOCH_INTERVALS * a.intervalS || spanS <= 0) return undefined;
  return round(s.epoch.delivered / spanS);
}

/**
 * The state patch of a decrease to `rate`: recovery toward the last healthy rate follows. The
 * first decrease of a run at or below `lastGood` lowers it (what was healthy is not any more);
 * later ones of the same run keep it (RFC 5681 holds ssthresh on repeated timeouts of one
 * segment: a block or an outage says nothing new about the rate). When the receiver refused
 * after accepting `accepted` msg/s over a long span (`acceptedRate`), a known-good rate above
 * that was its burst allowance, not its limit: `lastGood` is lowered to it, so recovery does not
 * climb back above what the receiver sustains (and probing past it is additive again).
 * A decrease starts a new epoch.
 */
export function decreased(s: LaneState, rate: number, a: Adaptive, now: number, accepted?: number): Pick<LaneState, 'rate' | 'phase' | 'lastGood' | 'ceiling' | 'backingOff' | 'epoch'> {
  let lastGood = !s.backingOff && s.lastGood > 0 && s.rate <= s.lastGood ? rate : s.lastGood;
  if (accepted !== undefined && (lastGood === 0 || accepted < lastGood)) lastGood = accepted;
  // The first decrease of a run records the refused rate (later ones, a block's, refuse any rate).
  const ceiling = s.backingOff && s.ceiling > 0 ? s.ceiling : s.rate;
  return { rate, lastGood, ceiling, backingOff: true, phase: a.recovery > 1 && lastGood > rate ? 'recovery' : 'steady', epoch: { at: now, delivered: 0 } };
}

/** Intervals per additive step near (within `decrease` × of) or above the last refused rate. */
export const PROBE_INTERVALS = 2;

/** Whether an additive step from the current rate is a probe near the last refused rate (`ceiling`). */
export function nearCeiling(s: Pick<LaneState, 'rate' | 'ceiling'>, a: Adaptive): boolean {
  return s.ceiling > 0 && s.rate >= s.ceiling * a.decrease;
}

/** Applies one automation action (closed set, handled exhaustively). */
export function applyAction(s: LaneState, action: Action, durationS: number, now: number, why: string, ctx: LaneContext): { state: LaneState; effects: Effect[] } {
  const until = now + durationS * 1000;
  const reason = `${why} → ${describeAction(action)} for ${durationS} s`;
  switch (action.type) {
    case 'suspend':
      return { state: changed(s, now, reason, { suspendedUntil: Math.max(s.suspendedUntil, until) }), effects: [{ type: 'changed', reason }] };
    case 'lower-rate': {
      const rate = round(Math.max(ctx.adaptive.minRate, s.rate * action.factor));
      // A lower-rate rule fires on the receiver's refusals: the epoch's accepted rate is evidence like a deferral's.
      return { state: changed(s, now, `${reason} (${s.rate} → ${rate} msg/s)`, { ...decreased(s, rate, ctx.adaptive, now, acceptedRate(s, now, ctx.adaptive)), holdUntil: Math.max(s.holdUntil, until) }), effects: [{ type: 'changed', reason }] };
    }
    case 'lower-connections':
      return { state: changed(s, now, reason, { connCap: action.to, connCapUntil: until }), effects: [{ type: 'changed', reason }] };
    case 'disable-ip':
      return { state: changed(s, now, reason, { disabledUntil: Math.max(s.disabledUntil, until) }), effects: [{ type: 'changed', reason }] };
    case 'bounce-queue':
      return { state: changed(s, now, reason, {}), effects: [{ type: 'changed', reason }, { type: 'bounce-queue', reason }] };
    default:
      return assertNever(action);
  }
}

/** Automation: rules whose pattern matches the reply fire now (immediate) or past N hits per window. */
function automate(s: LaneState, fb: Feedback, ctx: LaneContext): { state: LaneState; effects: Effect[] } {
  let state = s;
  const effects: Effect[] = [];
  if (fb.reply === undefined || fb.kind === 'complaint') return { state, effects }; // a complaint is not a reply
  // Most specific wins: when a provider's own rule matches the reply, the defaults' rules do not apply to it.
  const providerMatched = ctx.automation.some((r) => r.id.startsWith('providers.') && r.pattern.test(fb.reply!));
  for (const rule of ctx.automation) {
    if (!rule.pattern.test(fb.reply)) continue;
    if (providerMatched && !rule.id.startsWith('providers.')) continue;
    if ((state.active[rule.id] ?? 0) > fb.at) continue; // in force already: not re-applied, not counted
    let fire = rule.trigger.kind === 'immediate';
    if (rule.trigger.kind === 'count') {
      const from = fb.at - rule.trigger.windowS * 1000;
      const list = [...(state.hits[rule.id] ?? []).filter((t) => t > from), fb.at];
      fire = list.length >= rule.trigger.count;
      state = { ...state, hits: { ...state.hits, [rule.id]: fire ? [] : list.slice(-rule.trigger.count) } };
    }
    if (!fire) continue;
    const r = applyAction(state, rule.action, rule.durationS, fb.at, `${rule.id}: reply "${fb.reply.slice(0, 80)}"`, ctx);
    state = { ...r.state, active: { ...r.state.active, [rule.id]: fb.at + rule.durationS * 1000 } };
    effects.push(...r.effects);
  }
  return { state, effects };
}

/** Momentum-style ratio rules: invalid recipients and complaints above thresholds → throttle down, then suspend. */
function ratios(s: LaneState, fb: Feedback, ctx: LaneContext): { state: LaneState; effects: Effect[] } {
  const windowS = Math.min(ctx.ratios.invalidRecipient.windowS, ctx.ratios.complaint.windowS);
  let w = fb.at - s.ratio.start >= windowS * 1000 ? { start: fb.at, attempts: 0, invalid: 0, delivered: 0, complaints: 0, throttled: false } : { ...s.ratio };
  if (fb.kind === 'complaint') w.complaints++;
  else {
    w.attempts++;
    if (fb.kind === 'invalid') w.invalid++;
    if (fb.kind === 'delivered') w.delivered++;
  }
  let state: LaneState = { ...s, ratio: w };
  const checks: [string, number, number, Ratios['invalidRecipient']][] = [
    ['invalid-recipient', w.invalid, w.attempts, ctx.ratios.invalidRecipient],
    ['complaint', w.complaints, w.delivered, ctx.ratios.complaint],
  ];
  for (const [name, n, of, rule] of checks) {
    if (of < rule.minSamples || of === 0) continue;
    const ratio = n / of;
    if (ratio >= rule.suspend) {
      const reason = `${name} ratio ${(ratio * 100).toFixed(2)} % ≥ ${rule.suspend * 100} % over ${of} attempts → suspend for ${rule.suspendS} s`;
      state = changed(state, fb.at, reason, { suspendedUntil: fb.at + rule.suspendS * 1000, ratio: { ...w, start: fb.at, attempts: 0, invalid: 0, delivered: 0, complaints: 0, throttled: false } });
      return { state, effects: [{ type: 'changed', reason }] };
    }
    if (ratio >= rule.throttle && !w.throttled) {
      const rate = round(clampRate(state.rate * ctx.adaptive.decrease, ctx.adaptive));
      const reason = `${name} ratio ${(ratio * 100).toFixed(2)} % ≥ ${rule.throttle * 100} % over ${of} attempts → rate ${state.rate} → ${rate} msg/s`;
      w = { ...w, throttled: true };
      state = changed(state, fb.at, reason, { ...decreased(state, rate, ctx.adaptive, fb.at), ratio: w });
      return { state, effects: [{ type: 'changed', reason }] };
    }
  }
  return { state, effects: [] };
}

/** Share of an interval's worth of messages at the current rate that must have been delivered before an increase. */
export const EVIDENCE = 0.8;

/** AIMD: multiplicative decrease on deferrals/blocks, additive (or slow-start) increase while healthy and saturated. */
function adapt(s: LaneState, now: number, ctx: LaneContext): { state: LaneState; effects: Effect[] } {
  const a = ctx.adaptive;
  const bad = s.since.deferrals + s.since.blocks;
  // Slow start ends at the first deferral, at once (like TCP on loss); otherwise one change per interval.
  const exitSlowStart = s.phase === 'slow-start' && bad > 0;
  if (!a.enabled || (now - s.changedAt < a.intervalS * 1000 && !exitSlowStart)) return { state: s, effects: [] };
  if (bad > 0) {
    const why = `${bad} deferral(s)/block(s) in ${((now - s.changedAt) / 1000).toFixed(0)} s${short(s.since.lastReply)}`;
    const accepted = acceptedRate(s, now, a);
    if (exitSlowStart) {
      // Leaving slow start falls back to the last rate that was healthy, or to the rate the receiver
      // accepted over the slow start if less (its burst allowance carried the last steps: growth
      // ×slowStart per interval outruns a bucket's drain); that rate becomes the known-good rate.
      const back = round(clampRate(s.rate / a.slowStart, a));
      const rate = accepted !== undefined && accepted < back ? round(clampRate(accepted, a)) : back;
      const reason = `${why} → rate ${s.rate} → ${rate} msg/s (end of slow start${rate < back ? `; accepted ${accepted} msg/s over ${((now - s.epoch.at) / 1000).toFixed(0)} s` : ''})`;
      return { state: changed(s, now, reason, { rate, phase: 'steady', lastGood: rate, ceiling: s.rate, backingOff: true, epoch: { at: now, delivered: 0 } }), effects: [{ type: 'changed', reason }] };
    }
    const rate = round(clampRate(s.rate * a.decrease, a));
    const patch = decreased(s, rate, a, now, accepted);
    const capped = accepted !== undefined && patch.lastGood === accepted ? `; accepted ${accepted} msg/s over ${((now - s.epoch.at) / 1000).toFixed(0)} s` : '';
    const reason = `${why} → rate ${s.rate} → ${rate} msg/s${patch.lastGood > 0 ? ` (last healthy ${patch.lastGood} msg/s${capped})` : ''}`;
    return { state: changed(s, now, reason, patch), effects: [{ type: 'changed', reason }] };
  }
  // Evidence: deliveries at (80 % of) the current rate over the whole window, while demand was above
  // it. Measured over the window's real length, not one interval: a lane that delivers less than
  // its nominal rate (a receiver's burst allowance made one interval look healthy, or demand only
  // touched the rate now and then) must not keep raising a rate it does not use (RFC 7661).
  const windowS = (now - s.windowAt) / 1000;
  const probing = s.phase === 'steady' && nearCeiling(s, a);
  if (windowS < a.intervalS * (probing ? PROBE_INTERVALS : 1)) return { state: s, effects: [] };
  const evidence = s.since.delivered >= Math.max(1, Math.floor(EVIDENCE * s.rate * windowS));
  if (evidence && s.saturated && now >= s.holdUntil && s.rate < a.maxRate) {
    // The current rate proved healthy: the known-good rate is at least this one.
    const lastGood = Math.max(s.lastGood, s.rate);
    const recovering = s.phase === 'recovery' && s.rate < s.lastGood;
    const next = s.phase === 'slow-start' ? s.rate * a.slowStart : recovering ? Math.min(s.lastGood, s.rate * a.recovery) : s.rate + a.increase;
    const rate = round(clampRate(next, a));
    const how = s.phase === 'slow-start' ? ' (slow start)' : recovering ? ` (recovery toward ${s.lastGood} msg/s)` : '';
    const reason = `healthy for ${((now - s.changedAt) / 1000).toFixed(0)} s (${s.since.delivered} delivered, none deferred) → rate ${s.rate} → ${rate} msg/s${how}`;
    const phase = s.phase === 'slow-start' ? 'slow-start' : recovering && rate < s.lastGood ? 'recovery' : 'steady';
    return { state: changed(s, now, reason, { rate, phase, lastGood, backingOff: false }), effects: [{ type: 'changed', reason }] };
  }
  // No change this interval: the evidence starts over (the limits and the reason stay); an interval
  // without waiting messages starts the epoch over too (its deliveries measured demand, not the receiver).
  return { state: { ...s, since: { delivered: 0, deferrals: 0, blocks: 0 }, windowAt: now, saturated: false, ...(s.saturated ? {} : { epoch: { at: now, delivered: 0 } }) }, effects: [] };
}

/** One attempt's (or complaint's) feedback on a lane. Internal signals never change anything. */
export function observe(s: LaneState, fb: Feedback, ctx: LaneContext): { state: LaneState; effects: Effect[] } {
  if (fb.kind === 'internal') return { state: s, effects: [] };
  const effects: Effect[] = [];
  let state = s;
  // Deliveries count when they finish in the window; deferrals only for messages released (attempts started) after the last change.
  if (fb.kind === 'delivered') state = { ...state, epoch: { ...state.epoch, delivered: state.epoch.delivered + 1 } };
  if (fb.kind === 'delivered' || ((fb.kind === 'deferral' || fb.kind === 'block') && Math.min(fb.startedAt, fb.releasedAt ?? fb.startedAt) >= state.changedAt)) {
    const since = { ...state.since };
    if (fb.kind === 'delivered') since.delivered++;
    if (fb.kind === 'deferral') since.deferrals++;
    if (fb.kind === 'block') since.blocks++;
    if (fb.kind === 'deferral' || fb.kind === 'block') since.lastReply = fb.reply;
    state = { ...state, since };
  }
  for (const step of [automate, ratios]) {
    const r = step(state, fb, ctx);
    state = r.state;
    effects.push(...r.effects);
  }
  if (effects.length === 0) {
    const r = adapt(state, fb.at, ctx);
    state = r.state;
    effects.push(...r.effects);
  }
  return { state, effects };
}

/** Marks that messages had to wait for this lane (demand above the rate): a condition for increases. */
export function markSaturated(s: LaneState): LaneState {
  return s.saturated ? s : { ...s, saturated: true };
}

/** Counts one released message for warm-up (resets at the UTC day boundary). */
export function countSent(s: LaneState, now: number): LaneState {
  const day = dayOf(now);
  return day === s.day ? { ...s, sentToday: s.sentToday + 1 } : { ...s, day, sentToday: 1 };
}

export function sentToday(s: LaneState, now: number): number {
  return dayOf(now) === s.day ? s.sentToday : 0;
}

/** Operator actions: suspend for a duration, resume. */
export function operatorSuspend(s: LaneState, now: number, durationS: number, who: string): LaneState {
  return operatorSuspendUntil(s, now, now + durationS * 1000, who);
}
/** Suspends until an absolute time (a broadcast operator command: every instance ends it at the same moment). */
export function operatorSuspendUntil(s: LaneState, now: number, until: number, who: string): LaneState {
  return changed(s, now, `suspended by ${who} for ${Math.round((until - now) / 1000)} s`, { suspendedUntil: until });
}
export function operatorResume(s: LaneState, now: number, who: string): LaneState {
  return changed(s, now, `resumed by ${who}`, { suspendedUntil: 0, disabledUntil: 0 });
}

export interface EffectiveLimits {
  messagesPerSecond: number;
  burst: number;
  maxConnections: number;
  messagesPerConnection: number;
  tls: Knobs['tls'];
  suspendedUntil: number;
  disabledUntil: number;
}

/** The limits a lane applies now: the adapted rate (or the rule's when adaptation is off), caps and suspensions. */
export function effectiveLimits(s: LaneState, ctx: LaneContext, now: number): EffectiveLimits {
  const rate = ctx.adaptive.enabled ? s.rate : ctx.knobs.messagesPerSecond;
  const conns = s.connCap > 0 && now < s.connCapUntil ? Math.min(s.connCap, ctx.knobs.maxConnections) : ctx.knobs.maxConnections;
  return {
    messagesPerSecond: rate,
    burst: ctx.knobs.burst > 0 ? ctx.knobs.burst : Math.max(1, Math.ceil(rate)),
    maxConnections: conns,
    messagesPerConnection: ctx.knobs.messagesPerConnection,
    tls: ctx.knobs.tls,
    suspendedUntil: s.suspendedUntil > now ? s.suspendedUntil : 0,
    disabledUntil: s.disabledUntil > now ? s.disabledUntil : 0,
  };
}
