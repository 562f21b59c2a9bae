import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failure } from '@mta/contracts';
import { expiredFailure, hopsFor, jittered, nextAttemptAt, parsePolicy, placeRetry, checkTiers, type RetryPolicy } from '../src/index.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const T0 = Date.parse('2026-03-01T00:00:00Z');
/** A controllable clock: minutes after T0. */
const at = (ms: number) => new Date(T0 + ms);

const policy = (text: string): RetryPolicy => {
  const { policy: p, errors } = parsePolicy(text);
  assert.deepEqual(errors, []);
  return p!;
};
const NO_JITTER = policy('jitter = 0%\ncategory=greylisted | 1m, 5m...\ndomain=slow.test | 1h...\ndefault | 5m, 10m, 30m*2, 1h*4, 4h...');

test('next attempt time: policy step, capped at the validity end, expiry', () => {
  const validUntil = at(84 * H);
  const table: { now: number; attempt: number; category: string; domain?: string; want: string }[] = [
    { now: 0, attempt: 1, category: 'undetermined', want: `retry ${5 * M}` },
    { now: 0, attempt: 2, category: 'undetermined', want: `retry ${10 * M}` },
    { now: 0, attempt: 4, category: 'undetermined', want: `retry ${30 * M}` },
    { now: 0, attempt: 9, category: 'undetermined', want: `retry ${4 * H}` },
    { now: 0, attempt: 1, category: 'greylisted', want: `retry ${1 * M}` },
    { now: 0, attempt: 7, category: 'greylisted', want: `retry ${5 * M}` },
    { now: 0, attempt: 1, category: 'greylisted', domain: 'slow.test', want: `retry ${1 * M}` },
    { now: 0, attempt: 1, category: 'quota-issues', domain: 'slow.test', want: `retry ${1 * H}` },
    // The next step would pass the validity end: wait exactly until it, then expire.
    { now: 84 * H - 2 * H, attempt: 20, category: 'undetermined', want: `wait-for-expiry ${2 * H}` },
    { now: 84 * H - 4 * H, attempt: 20, category: 'undetermined', want: `wait-for-expiry ${4 * H}` },
    { now: 84 * H - 4 * H - 1, attempt: 20, category: 'undetermined', want: `retry ${4 * H}` },
    { now: 84 * H, attempt: 20, category: 'undetermined', want: 'expired' },
    { now: 90 * H, attempt: 3, category: 'undetermined', want: 'expired' },
  ];
  for (const row of table) {
    const r = nextAttemptAt({ now: at(row.now), attempt: row.attempt, category: row.category, domain: row.domain ?? 'example.test', validUntil, policy: NO_JITTER, jitterSeed: 'm1' });
    const got = r.kind === 'retry' || r.kind === 'wait-for-expiry' ? `${r.kind} ${r.at.getTime() - T0 - row.now}` : r.kind;
    assert.equal(got, row.want, JSON.stringify(row));
  }
});

test('a finite schedule can run out before the validity period', () => {
  const p = policy('default | 1m*2');
  const r = (attempt: number) => nextAttemptAt({ now: at(0), attempt, category: 'x', domain: 'd.test', validUntil: at(H), policy: p, jitterSeed: 's' }).kind;
  assert.deepEqual([1, 2, 3].map(r), ['retry', 'retry', 'exhausted']);
});

test('jitter: deterministic per message and attempt, within ±jitter, spread out', () => {
  const p = policy('jitter = 10%\ndefault | 10m...');
  const waits = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const once = nextAttemptAt({ now: at(0), attempt: 1, category: 'x', domain: 'd.test', validUntil: at(84 * H), policy: p, jitterSeed: `msg-${i}` });
    const again = nextAttemptAt({ now: at(0), attempt: 1, category: 'x', domain: 'd.test', validUntil: at(84 * H), policy: p, jitterSeed: `msg-${i}` });
    assert.equal(once.kind, 'retry');
    assert.deepEqual(once, again, 'a replay schedules the same time');
    const w = (once as { waitMs: number }).waitMs;
    assert.ok(w >= 9 * M && w <= 11 * M, `wait ${w} within ±10 %`);
    waits.add(Math.floor((w - 9 * M) / (12 * S))); // 10 buckets of 12 s
  }
  assert.equal(waits.size, 10, 'two hundred messages fill every tenth of the jitter range: no burst');
  assert.notEqual(jittered(10 * M, 0.1, 'a:1'), jittered(10 * M, 0.1, 'a:2'), 'each attempt of a message gets its own jitter');
});

test('an always-failing message expires at the validity end, never earlier, never later than one step', () => {
  // Simulated clock: every attempt fails at once; the retry happens exactly when scheduled.
  for (const [schedule, validity] of [['5m, 10m, 30m*2, 1h*4, 4h...', 84 * H], ['7m...', 60 * M], ['1h...', 30 * M]] as const) {
    const p = policy(`jitter = 10%\ndefault | ${schedule}`);
    let now = 0;
    let attempt = 1;
    let expiredAt: number | undefined;
    for (let guard = 0; guard < 10_000 && expiredAt === undefined; guard++) {
      const r = nextAttemptAt({ now: at(now), attempt, category: 'x', domain: 'd.test', validUntil: at(validity), policy: p, jitterSeed: 'always-soft' });
      if (r.kind === 'retry') {
        assert.ok(r.at.getTime() - T0 < validity);
        now = r.at.getTime() - T0;
        attempt++;
      } else if (r.kind === 'wait-for-expiry') {
        expiredAt = r.at.getTime() - T0;
        const step = r.rule.schedule.steps.at(-1)!.ms * 1.1;
        assert.ok(validity - now <= step, 'the last attempt was within one step of the end');
      } else assert.fail(`unexpected ${r.kind}`);
    }
    assert.equal(expiredAt, validity, `${schedule}: fails exactly at the validity end`);
  }
});

test('tiers: the largest tier the wait fills (within 10 %); the remainder held in the smallest tier until due', () => {
  const tiers = [1 * M, 5 * M, 30 * M, 2 * H, 8 * H];
  assert.deepEqual(checkTiers(tiers), []);
  assert.deepEqual(checkTiers([5, 5]), ['tier 2 must be longer than tier 1']);
  const table: [number, string][] = [
    // wait, placement: tier index and release time after now
    [0, 'due'],
    [-5, 'due'],
    [30 * S, `hold 0 ${30 * S}`],
    [1 * M, `hold 0 ${1 * M}`],
    [4 * M, `hold 0 ${1 * M}`],
    [4 * M + 30 * S, `hold 1 ${4 * M + 30 * S}`], // fills 90 % of the 5m tier: released when due
    [5 * M, `hold 1 ${5 * M}`],
    [20 * M, `hold 1 ${5 * M}`],
    [29 * M, `hold 2 ${29 * M}`],
    [3 * H, `hold 3 ${2 * H}`],
    [84 * H, `hold 4 ${8 * H}`],
  ];
  for (const [wait, want] of table) {
    const p = placeRetry(T0, T0 + wait, tiers);
    assert.equal(p.kind === 'due' ? 'due' : `hold ${p.tier.index} ${p.notBefore - T0}`, want, `wait ${wait}`);
  }
  // Without tolerance: strictly the largest tier not longer than the wait.
  const strict = placeRetry(T0, T0 + 29 * M, tiers, 0);
  assert.equal(strict.kind === 'hold' && `${strict.tier.index} ${strict.notBefore - T0}`, `1 ${5 * M}`);
  // Cost in hops (one write and one read of the message each).
  assert.deepEqual([5 * M, 10 * M, 30 * M, H, 4 * H, 84 * H].map((w) => hopsFor(w, tiers)), [1, 2, 1, 2, 2, 12]);
  assert.equal(hopsFor(5 * M + 30 * S, tiers), 2);
  assert.equal(hopsFor(4 * M + 40 * S, tiers), 1);
});

test('expired failure keeps the last soft-bounce reason, with bounce class 24', () => {
  const last = failure('soft', 5, 22, 'quota-issues', '452 4.2.2 Mailbox full');
  const f = expiredFailure(last, '2026-03-04T12:00:00.000Z', 7);
  assert.equal(f.bounceClass, 24);
  assert.equal(f.reason, 'Mailbox full');
  assert.equal(f.reasonCode, 5);
  assert.equal(f.type, 'soft');
  assert.equal(f.category, 'message-expired');
  assert.equal(f.message, 'validity period ended at 2026-03-04T12:00:00.000Z after 7 attempts; last failure: 452 4.2.2 Mailbox full');
  assert.equal(expiredFailure(undefined, 'x', 0).reason, 'Unreachable');
});
