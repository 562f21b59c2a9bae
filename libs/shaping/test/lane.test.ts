import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE_RATIOS,
  applyAction,
  chooseSourceIp,
  effectiveLimits,
  markSaturated,
  nearCeiling,
  newLane,
  observe,
  parseShapingRules,
  resolve,
  signalOf,
  warmupAllowance,
  type Action,
  type Feedback,
  type LaneContext,
  type LaneState,
} from '../src/index.ts';

const ctxOf = (yaml: string): LaneContext => {
  const p = parseShapingRules(yaml);
  assert.ok(p.ok, p.ok ? '' : p.errors.join('\n'));
  const r = resolve(p.rules, { domain: 'gmail.com', mxHosts: ['gmail-smtp-in.l.google.com'] });
  return { knobs: r.knobs, adaptive: r.adaptive, automation: r.automation, ratios: p.rules.ratios };
};

const CTX = ctxOf(`
defaults: { messagesPerSecond: 10, maxConnections: 5 }
adaptive: { enabled: true, minRate: 1, maxRate: 40, increase: 2, decrease: 0.5, intervalS: 10 }
providers:
  google:
    match: [.google.com]
    automation:
      - { pattern: '4\\.7\\.28', trigger: immediate, action: lower-rate, factor: 0.5, durationS: 60 }
      - { pattern: 'TSS04', trigger: { count: 3, windowS: 30 }, action: suspend, durationS: 120 }
automation:
  - { pattern: '4\\.7\\.0.*(too many|volume)', trigger: immediate, action: lower-rate, factor: 0.75, durationS: 60 }
`);

const fb = (kind: Feedback['kind'], at: number, reply?: string, startedAt = at - 100): Feedback => ({ kind, at, startedAt, reply });
const run = (s: LaneState, events: Feedback[], ctx = CTX) => events.reduce((st, e) => observe(st, e, ctx).state, s);
/** n deliveries of attempts started at `from` and finished by `at` (the last one at `at`). */
const delivered = (n: number, from: number, at: number): Feedback[] => Array.from({ length: n }, (_, i) => fb('delivered', i === n - 1 ? at : from + 1, undefined, from));

test('signals: remote replies only; our own transport errors are internal', () => {
  const rows: [Parameters<typeof signalOf>[0], string][] = [
    [{ outcome: 'delivered', smtp: { code: 250 } }, 'delivered'],
    [{ outcome: 'failed', error: { code: 'ETIMEDOUT' } }, 'internal'],
    [{ outcome: 'failed', error: { code: 'ECONNECTION', response: 'connect ECONNREFUSED' } }, 'internal'],
    [{ outcome: 'failed', error: { code: 'EENVELOPE', responseCode: 421, response: '421-4.7.28 [192.0.2.1] Our system has detected an unusual rate of unsolicited mail' } }, 'deferral'],
    [{ outcome: 'failed', error: { code: 'EENVELOPE', responseCode: 421, response: '421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints' } }, 'deferral'],
    [{ outcome: 'failed', error: { code: 'EENVELOPE', responseCode: 451, response: '451 4.7.500 Server busy. Please try again later from [192.0.2.1].' } }, 'deferral'],
    [{ outcome: 'failed', error: { code: 'EENVELOPE', responseCode: 451, response: '451 4.7.1 Greylisted, please try again later' } }, 'recipient-soft'],
    [{ outcome: 'failed', error: { code: 'EENVELOPE', responseCode: 452, response: '452 4.2.2 The email account that you tried to reach is over quota' } }, 'recipient-soft'],
    [{ outcome: 'failed', error: { code: 'EENVELOPE', responseCode: 550, response: '550 5.1.1 The email account that you tried to reach does not exist' } }, 'invalid'],
    [{ outcome: 'failed', error: { code: 'EENVELOPE', responseCode: 554, response: '554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using Spamhaus' } }, 'block'],
    [{ outcome: 'failed', error: { code: 'EMESSAGE', responseCode: 552, response: '552 5.3.4 Message size exceeds fixed limit' } }, 'hard'],
  ];
  for (const [a, kind] of rows) assert.equal(signalOf(a), kind, JSON.stringify(a));
});

test('automation triggers: immediate once per change, N per window, never on internal signals', () => {
  const s0 = newLane(CTX, 0);
  const rows: [string, Feedback[], number, number][] = [
    // name, feedback, expected rate, expected suspendedUntil
    ['immediate 4.7.28 halves the rate', [fb('deferral', 1000, '421 4.7.28 unusual rate')], 5, 0],
    ['while its action is in force (60 s) the rule does not fire again', [fb('deferral', 1000, '421 4.7.28 x'), fb('deferral', 1100, '421 4.7.28 x'), fb('deferral', 3000, '421 4.7.28 x', 2000)], 5, 0],
    ['after its duration it fires again', [fb('deferral', 1000, '421 4.7.28 x'), fb('deferral', 62_000, '421 4.7.28 x', 61_900)], 2.5, 0],
    ['TSS04 twice in the window: no action yet', [fb('deferral', 1000, '421 4.7.0 [TSS04]'), fb('deferral', 2000, '421 4.7.0 [TSS04]')], 10, 0],
    ['TSS04 three times in 30 s: suspend 120 s', [fb('deferral', 1000, '421 4.7.0 [TSS04]'), fb('deferral', 2000, '421 4.7.0 [TSS04]'), fb('deferral', 3000, '421 4.7.0 [TSS04]')], 10, 123_000],
    // (no suspension; AIMD still halves the rate at each interval with deferrals)
    ['three TSS04 spread over more than 30 s: no suspension', [fb('deferral', 1000, '421 4.7.0 [TSS04]'), fb('deferral', 20_000, '421 4.7.0 [TSS04]'), fb('deferral', 40_000, '421 4.7.0 [TSS04]')], 2.5, 0],
    ['a defaults rule applies to replies no provider rule matches', [fb('deferral', 1000, '451 4.7.0 too many connections')], 7.5, 0],
    ['a provider rule matching the reply shadows the defaults rules', [fb('deferral', 1000, '421 4.7.0 [TSS04] unexpected volume'), fb('deferral', 2000, '421 4.7.0 [TSS04] unexpected volume')], 10, 0],
    ['internal errors never trigger, even with a matching text', [fb('internal', 1000, '421 4.7.28 (generated locally)'), fb('internal', 2000, 'ETIMEDOUT')], 10, 0],
  ];
  for (const [name, events, rate, suspended] of rows) {
    const s = run(s0, events);
    assert.deepEqual([s.rate, s.suspendedUntil], [rate, suspended], name);
  }
});

test('actions: the closed set, each with its effect', () => {
  const s0 = newLane(CTX, 0);
  const rows: [Action, (s: LaneState) => unknown, unknown, string[]][] = [
    [{ type: 'suspend' }, (s) => s.suspendedUntil, 60_000, ['changed']],
    [{ type: 'lower-rate', factor: 0.25 }, (s) => [s.rate, s.holdUntil], [2.5, 60_000], ['changed']],
    [{ type: 'lower-connections', to: 2 }, (s) => effectiveLimits(s, CTX, 1000).maxConnections, 2, ['changed']],
    [{ type: 'disable-ip' }, (s) => s.disabledUntil, 60_000, ['changed']],
    [{ type: 'bounce-queue' }, (s) => s.suspendedUntil, 0, ['changed', 'bounce-queue']],
  ];
  for (const [action, get, want, effects] of rows) {
    const r = applyAction(s0, action, 60, 0, 'test', CTX);
    assert.deepEqual(get(r.state), want, action.type);
    assert.deepEqual(r.effects.map((e) => e.type), effects, action.type);
  }
});

test('AIMD: additive increase while healthy and saturated, multiplicative decrease, bounds, min interval', () => {
  const s0 = newLane(CTX, 0);
  const sat = (s: LaneState) => markSaturated(s);
  const rows: [string, (s: LaneState) => LaneState, number][] = [
    // an increase needs 80 % of the current rate delivered over the window (at least an interval): 10 msg/s × 10 s × 0.8 = 80
    ['healthy but not saturated: no increase', (s) => run(s, delivered(80, 100, 10_000)), 10],
    ['healthy and saturated after the interval: +2', (s) => run(sat(s), delivered(80, 100, 10_000)), 12],
    ['healthy and saturated, too few deliveries: no change', (s) => run(sat(s), delivered(79, 100, 10_000)), 10],
    // measured over the window's real length: 80 deliveries in 12 s is 6.7 msg/s, not proof of 10
    ['80 deliveries over 12 s: not proof of 10 msg/s', (s) => run(sat(s), delivered(80, 100, 12_000)), 10],
    ['96 deliveries over 12 s: proof', (s) => run(sat(s), delivered(96, 100, 12_000)), 12],
    ['healthy and saturated before the interval: no change', (s) => run(sat(s), delivered(80, 100, 5_000)), 10],
    ['a deferral then the interval: ×0.5', (s) => run(s, [fb('deferral', 2_000, '451 4.3.2 try later'), fb('delivered', 11_000)]), 5],
    ['a deferral before the interval: no change yet', (s) => run(s, [fb('deferral', 2_000, '451 4.3.2 try later')]), 10],
    // changed at 5 s: an attempt started after it of a message released before it (still in the pipeline) is about the old rate
    ['a deferral of a message released before the last change: no decrease', (s) => run({ ...s, changedAt: 5_000, windowAt: 5_000 }, [{ ...fb('deferral', 15_500, '451 4.3.2 try later', 15_000), releasedAt: 4_900 }]), 10],
    ['a deferral of a message released after the last change: ×0.5', (s) => run({ ...s, changedAt: 5_000, windowAt: 5_000 }, [{ ...fb('deferral', 15_500, '451 4.3.2 try later', 15_000), releasedAt: 5_100 }]), 5],
    ['a block counts like a deferral', (s) => run(s, [fb('block', 11_000, '554 5.7.1 blocked')]), 5],
    ['greylisting is not a rate signal', (s) => run(sat(s), [fb('recipient-soft', 2_000, '451 4.7.1 Greylisted'), ...delivered(80, 100, 10_000)]), 12],
    ['internal errors are not a signal', (s) => run(s, [fb('internal', 11_000, 'ETIMEDOUT')]), 10],
    ['never below minRate', (s) => run({ ...s, rate: 1.5 }, [fb('deferral', 11_000, '451 4.3.2')]), 1],
    ['never above maxRate', (s) => run(sat({ ...s, rate: 39.5 }), delivered(316, 100, 10_000)), 40],
  ];
  for (const [name, f, rate] of rows) assert.equal(f(s0).rate, rate, name);
  // slow start: multiplicative growth until the first deferral
  const slow = ctxOf(`
defaults: { messagesPerSecond: 4 }
adaptive: { enabled: true, maxRate: 100, increase: 1, decrease: 0.5, intervalS: 1, slowStart: 2 }
`);
  let s = newLane(slow, 0);
  const rates: number[] = [];
  for (let t = 1; t <= 4; t++) {
    s = run(markSaturated(s), delivered(Math.floor(0.8 * s.rate), (t - 1) * 1000 + 20, t * 1000 + 20), slow);
    rates.push(s.rate);
  }
  s = observe(s, fb('deferral', 4_100, '421 4.7.0 try later', 4_050), slow).state; // end of slow start at once: back to the last healthy rate
  rates.push(s.rate);
  // steady, within ×0.5 of the refused 64 msg/s: a probe step needs two intervals
  s = run(markSaturated(s), delivered(26, 4_200, 5_100), slow);
  rates.push(s.rate);
  s = run(markSaturated(s), delivered(54, 5_200, 6_200), slow); // +1 after 0.8 × 32 × 2.1 s = 53 deliveries
  rates.push(s.rate);
  assert.deepEqual(rates, [8, 16, 32, 64, 32, 32, 33]);
  assert.deepEqual([s.phase, s.ceiling], ['steady', 64]);
});

test('ratio rules (Momentum style): invalid recipients 3 % → throttle down, 10 % → suspend', () => {
  const ctx: LaneContext = { ...CTX, ratios: { ...BASE_RATIOS, invalidRecipient: { ...BASE_RATIOS.invalidRecipient, minSamples: 100 } } };
  const attempts = (invalid: number, total: number) => Array.from({ length: total }, (_, i) => fb(i < invalid ? 'invalid' : 'delivered', 1000 + i, i < invalid ? '550 5.1.1 no such user' : undefined));
  const rows: [number, number, number, boolean][] = [
    [2, 100, 10, false],
    [4, 100, 5, false],
    [12, 100, 10, true], // 12 % when the window reaches minSamples: straight to suspend
    [20, 99, 10, false], // below minSamples
  ];
  for (const [invalid, total, rate, suspended] of rows) {
    const s = run(newLane(ctx, 0), attempts(invalid, total), ctx);
    assert.deepEqual([s.rate, s.suspendedUntil > 0], [rate, suspended], `${invalid}/${total}`);
  }
  // throttled down at 4 %, then suspended once the ratio climbs past 10 %
  let s = run(newLane(ctx, 0), attempts(4, 100), ctx);
  assert.deepEqual([s.rate, s.suspendedUntil > 0], [5, false]);
  s = run(s, Array.from({ length: 10 }, (_, i) => fb('invalid', 5000 + i, '550 5.1.1 no such user')), ctx);
  assert.deepEqual([s.rate, s.suspendedUntil > 0], [5, true]);
  assert.match(s.reason, /invalid-recipient ratio 10\.28 % ≥ 10 % over 107 attempts/);
});

test('warm-up: daily allowance per provider; new IPs first, overflow to warm IPs of the pool', () => {
  const schedule = [50, 100, 500];
  const day = (d: string) => Date.parse(`${d}T12:00:00Z`);
  const rows: [string | undefined, string, number | undefined][] = [
    [undefined, '2026-11-29', undefined],
    ['2026-11-29', '2026-11-29', 50],
    ['2026-11-29', '2026-11-30', 100],
    ['2026-11-29', '2026-12-01', 500],
    ['2026-11-29', '2026-12-02', undefined],
    ['2026-12-01', '2026-11-29', 0],
  ];
  for (const [start, today, want] of rows) assert.equal(warmupAllowance(schedule, start, day(today)), want, `${start} on ${today}`);
  const pick: [Parameters<typeof chooseSourceIp>[0], number, string | undefined][] = [
    [[{ ip: 'new', left: 10, unavailable: false }, { ip: 'warm1', left: undefined, unavailable: false }], 0, 'new'],
    [[{ ip: 'new', left: 0, unavailable: false }, { ip: 'warm1', left: undefined, unavailable: false }, { ip: 'warm2', left: undefined, unavailable: false }], 1, 'warm2'],
    [[{ ip: 'new', left: 5, unavailable: true }, { ip: 'warm1', left: undefined, unavailable: false }], 0, 'warm1'],
    [[{ ip: 'new', left: 0, unavailable: false }], 0, undefined],
    [[{ ip: 'warm1', left: undefined, unavailable: true }], 0, undefined],
  ];
  for (const [c, turn, want] of pick) assert.equal(chooseSourceIp(c, turn), want, JSON.stringify(c));
});

test('recovery: after a run of decreases the rate returns × recovery per healthy interval to the last healthy rate, then grows additively', () => {
  const ctx = ctxOf(`
defaults: { messagesPerSecond: 4 }
adaptive: { enabled: true, minRate: 1, maxRate: 100, increase: 1, decrease: 0.5, intervalS: 1, slowStart: 2, recovery: 2 }
`);
  let s = newLane(ctx, 0);
  let t = 0;
  // one evaluation window: an interval, two when the step probes near the last refused rate
  const healthy = () => {
    const n = s.phase === 'steady' && nearCeiling(s, ctx.adaptive) ? 2 : 1;
    s = run(markSaturated(s), delivered(Math.max(1, Math.floor(0.8 * s.rate * n)), t + 20, t + n * 1000 + 20), ctx);
    t += n * 1000;
    return s;
  };
  const deferred = () => {
    s = run(s, [fb('deferral', t + 1020, '421 4.7.0 [TSS04] deferred', t + 20)], ctx);
    t += 1000;
    return s;
  };
  const steps: [string, () => LaneState, number, LaneState['phase'], number, number][] = [
    // step, rate after, phase after, last healthy rate after, last refused rate after
    ['slow start', healthy, 8, 'slow-start', 4, 0],
    ['slow start', healthy, 16, 'slow-start', 8, 0],
    ['first deferral: end of slow start, back to the last healthy rate', deferred, 8, 'steady', 8, 16],
    ['additive (two intervals: within ×0.5 of the refused 16)', healthy, 9, 'steady', 8, 16],
    ['healthy at 9', healthy, 10, 'steady', 9, 16],
    ['a probe above the last healthy rate fails: ×0.5, last healthy kept', deferred, 5, 'recovery', 9, 10],
    // a block: deferrals whatever the rate; the run of decreases keeps the last healthy and the refused rate
    ['block', deferred, 2.5, 'recovery', 9, 10],
    ['block', deferred, 1.25, 'recovery', 9, 10],
    ['block', deferred, 1, 'recovery', 9, 10],
    ['block lifted: × 2', healthy, 2, 'recovery', 9, 10],
    ['× 2', healthy, 4, 'recovery', 9, 10],
    ['× 2', healthy, 8, 'recovery', 9, 10],
    ['capped at the last healthy rate', healthy, 9, 'steady', 9, 10],
    ['then additive', healthy, 10, 'steady', 9, 10],
    ['healthy at 10: it becomes the last healthy rate', healthy, 11, 'steady', 10, 10],
    ['probe fails', deferred, 5.5, 'recovery', 10, 11],
    ['recovering', healthy, 10, 'steady', 10, 11],
    // the receiver lowered its limit: a deferral at the known-good rate (not while backing off) lowers it
    ['deferral at the last healthy rate: it is not healthy any more', deferred, 5, 'steady', 5, 10],
    ['additive from there', healthy, 6, 'steady', 5, 10],
  ];
  for (const [name, step, rate, phase, lastGood, ceiling] of steps) {
    step();
    assert.deepEqual([s.rate, s.phase, s.lastGood, s.ceiling], [rate, phase, lastGood, ceiling], name);
  }
  // recovery: 1 turns it off (additive only after a decrease)
  const off = ctxOf(`
defaults: { messagesPerSecond: 10 }
adaptive: { enabled: true, minRate: 1, maxRate: 100, increase: 1, decrease: 0.5, intervalS: 1, recovery: 1 }
`);
  s = { ...newLane(off, 0), lastGood: 10 };
  t = 0;
  s = run(s, [fb('deferral', 1020, '421 4.7.0 [TSS04] deferred', 20)], off);
  t = 1000;
  s = run(markSaturated(s), delivered(8, t + 20, t + 2020), off); // at ×0.5 of the refused 10: two intervals
  assert.deepEqual([s.rate, s.phase], [6, 'steady']);
});

test('a lower-rate action is a decrease: recovery to the last healthy rate once its hold ends', () => {
  const ctx = ctxOf(`
defaults: { messagesPerSecond: 10 }
adaptive: { enabled: true, minRate: 1, maxRate: 100, increase: 1, decrease: 0.5, intervalS: 1, recovery: 2 }
`);
  // probing above the last healthy rate (12 > 10): the action lowers the rate, the known-good rate stays
  const s0 = { ...newLane(ctx, 0), rate: 12, lastGood: 10 };
  let s = applyAction(s0, { type: 'lower-rate', factor: 0.25 }, 5, 0, 'test', ctx).state;
  assert.deepEqual([s.rate, s.phase, s.lastGood, s.holdUntil], [3, 'recovery', 10, 5000]);
  // deliveries at 3 msg/s, messages waiting all along (the shaper marks the lane saturated before each feedback)
  const steady = (st: LaneState, from: number, to: number) => {
    for (let t = from; t <= to; t += 1000 / 3) st = observe(markSaturated(st), fb('delivered', Math.round(t), undefined, Math.round(t) - 100), ctx).state;
    return st;
  };
  s = steady(s, 100, 4900); // held: no increase
  assert.equal(s.rate, 3);
  s = steady(s, 5000, 6000); // the hold is over: 3 msg/s proved, × 2 toward the last healthy rate
  assert.deepEqual([s.rate, s.phase], [6, 'recovery']);
  // at the known-good rate: the receiver says it is not good any more
  s = applyAction({ ...s0, rate: 10 }, { type: 'lower-rate', factor: 0.25 }, 5, 0, 'test', ctx).state;
  assert.deepEqual([s.rate, s.phase, s.lastGood], [2.5, 'steady', 2.5]);
});

test('ratio rules (Momentum style): complaints 0.2 % of deliveries → throttle down, 0.5 % → suspend', () => {
  const ctx: LaneContext = { ...CTX, ratios: { ...BASE_RATIOS, complaint: { ...BASE_RATIOS.complaint, minSamples: 1000 } } };
  // n deliveries, then c complaints (complaints arrive after the deliveries they are about)
  const events = (delivered: number, complaints: number) => [
    ...Array.from({ length: delivered }, (_, i) => fb('delivered', 1000 + i)),
    ...Array.from({ length: complaints }, (_, i): Feedback => ({ kind: 'complaint', at: 5000 + i, startedAt: 5000 + i })),
  ];
  const rows: [number, number, number, boolean][] = [
    // deliveries, complaints, rate, suspended
    [1000, 1, 10, false], // 0.1 %
    [1000, 2, 5, false], // 0.2 %: throttle down (× decrease)
    [1000, 3, 5, false], // throttled once per window
    [1000, 5, 5, true], // 0.5 %: suspend
    [999, 9, 10, false], // below minSamples (deliveries)
    [0, 3, 10, false], // complaints without deliveries in the window
  ];
  for (const [d, c, rate, suspended] of rows) {
    const s = run(newLane(ctx, 0), events(d, c), ctx);
    assert.deepEqual([s.rate, s.suspendedUntil > 0], [rate, suspended], `${c} complaints / ${d} deliveries`);
  }
  const s = run(newLane(ctx, 0), events(1000, 5), ctx);
  assert.match(s.reason, /complaint ratio 0\.50 % ≥ 0\.5 % over 1000 attempts → suspend for 14400 s/);
  // a complaint is never an AIMD signal or an automation input
  const quiet = observe(newLane(ctx, 0), { kind: 'complaint', at: 1000, startedAt: 1000, reply: '421 4.7.28' }, ctx).state;
  assert.deepEqual([quiet.rate, quiet.since, quiet.ratio.complaints], [10, { delivered: 0, deferrals: 0, blocks: 0 }, 1]);
});

test('accepted rate: a known-good rate above what the receiver accepted over the epoch was its burst allowance, not its limit', () => {
  const ctx = ctxOf(`
defaults: { messagesPerSecond: 4 }
adaptive: { enabled: true, minRate: 1, maxRate: 100, increase: 1, decrease: 0.5, intervalS: 2, slowStart: 1, recovery: 2 }
`);
  // A lane probing at 8 msg/s (healthy at 7 once), refused at t = 10 s; the epoch (deliveries since
  // the last decrease, messages waiting all along) started at `epochAt` with `n` deliveries.
  const at = (over: Partial<LaneState>) => ({ ...newLane(ctx, 0), rate: 8, lastGood: 7, changedAt: 8_000, windowAt: 8_000, saturated: true, ...over });
  const refused = (s: LaneState) => observe(s, fb('deferral', 10_000, '421 4.7.0 too many messages', 8_500), ctx).state;
  const rows: [string, LaneState, number, number, LaneState['phase']][] = [
    // name, state before, rate after, last healthy after, phase after
    ['10 s at 5 msg/s accepted: last healthy 7 → 5 (recovery capped there)', at({ epoch: { at: 0, delivered: 50 } }), 4, 5, 'recovery'],
    ['accepted 3.5 msg/s, below the new rate: additive from 4', at({ epoch: { at: 0, delivered: 35 } }), 4, 3.5, 'steady'],
    ['accepted above the last healthy rate: kept', at({ epoch: { at: 0, delivered: 80 } }), 4, 7, 'recovery'],
    ['epoch shorter than two intervals: no measure, kept', at({ epoch: { at: 7_000, delivered: 10 } }), 4, 7, 'recovery'],
    ['no messages waiting in this window: no measure, kept', at({ epoch: { at: 0, delivered: 50 }, saturated: false }), 4, 7, 'recovery'],
    ['no healthy rate known yet: the accepted one', at({ lastGood: 0, epoch: { at: 0, delivered: 60 } }), 4, 6, 'recovery'],
    // a run of decreases (a block) keeps its epoch short: each decrease starts a new one
    ['backing off, epoch of one interval: kept', at({ backingOff: true, epoch: { at: 8_000, delivered: 2 } }), 4, 7, 'recovery'],
  ];
  for (const [name, before, rate, lastGood, phase] of rows) {
    const s = refused(before);
    assert.deepEqual([s.rate, s.lastGood, s.phase], [rate, lastGood, phase], name);
    assert.deepEqual(s.epoch, { at: 10_000, delivered: 0 }, `${name}: a decrease starts a new epoch`);
  }
  // deliveries count into the epoch whatever the window; an interval without waiting messages starts it over
  let s = { ...newLane(ctx, 0) };
  s = run(s, delivered(3, 100, 1_000), ctx);
  assert.deepEqual(s.epoch, { at: 0, delivered: 3 });
  s = run(s, delivered(1, 1_100, 2_100), ctx); // the interval ended, the lane never saturated
  assert.deepEqual(s.epoch, { at: 2_100, delivered: 0 });
  // slow start ends on a refusal: back to the last rate before it, or to the accepted rate if less
  const slow = ctxOf(`
defaults: { messagesPerSecond: 4 }
adaptive: { enabled: true, minRate: 1, maxRate: 100, increase: 1, decrease: 0.5, intervalS: 2, slowStart: 2 }
`);
  const ss = { ...newLane(slow, 0), rate: 16, changedAt: 8_000, windowAt: 8_000, saturated: true, epoch: { at: 0, delivered: 60 } };
  const out = observe(ss, fb('deferral', 8_500, '421 4.7.0 too many messages', 8_100), slow).state;
  assert.deepEqual([out.rate, out.lastGood, out.phase], [7.06, 7.06, 'steady']); // 60 in 8.5 s
  const more = observe({ ...ss, epoch: { at: 0, delivered: 85 } }, fb('deferral', 8_500, '421 4.7.0 too many messages', 8_100), slow).state;
  assert.deepEqual([more.rate, more.lastGood, more.phase], [8, 8, 'steady']); // accepted 10 msg/s: the last healthy rate
  // a lower-rate rule fires on refusals: the same measure
  const act = applyAction(at({ epoch: { at: 0, delivered: 50 } }), { type: 'lower-rate', factor: 0.25 }, 5, 10_000, 'test', ctx).state;
  assert.deepEqual([act.rate, act.lastGood, act.phase], [2, 5, 'recovery']);
});

test('probing near the last refused rate: a step per two intervals within ×decrease of it or above, one below', () => {
  const a = CTX.adaptive; // decrease 0.5
  const rows: [number, number, boolean][] = [
    // rate, last refused rate, near it
    [10, 0, false], // nothing refused yet
    [4.9, 10, false],
    [5, 10, true],
    [9, 10, true],
    [12, 10, true], // above it: the receiver refused less
  ];
  for (const [rate, ceiling, near] of rows) assert.equal(nearCeiling({ rate, ceiling }, a), near, `${rate} vs ${ceiling}`);
  // a lower-rate action records the refused rate like a deferral's decrease
  const s = applyAction({ ...newLane(CTX, 0), rate: 12, lastGood: 10 }, { type: 'lower-rate', factor: 0.5 }, 5, 0, 'test', CTX).state;
  assert.deepEqual([s.rate, s.ceiling], [6, 12]);
});
