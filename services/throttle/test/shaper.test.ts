import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIpPools } from '@mta/config';
import { parseShapingRules } from '@mta/shaping';
import { ANY_IP, Shaper } from '../src/shaper.ts';
import { siteOf } from '../src/site.ts';

const rules = (() => {
  const p = parseShapingRules(`
defaults: { messagesPerSecond: 10 }
providers:
  google: { match: [.google.com], warmup: [2, 4] }
sourceIps:
  192.0.2.1: { warmupStart: 2026-11-29 }
`);
  assert.ok(p.ok);
  return p.rules;
})();
const pools = (() => {
  const p = parseIpPools('default=192.0.2.1,192.0.2.2,192.0.2.3', 'mta.example.net');
  assert.ok(p.ok);
  return p.pools;
})();
const google = siteOf(['GMAIL-SMTP-IN.L.GOOGLE.COM.', 'alt1.gmail-smtp-in.l.google.com']);

test('site: the sender\'s form (unique lower-case hosts without the root dot, sorted)', () => {
  assert.deepEqual(google, { site: 'alt1.gmail-smtp-in.l.google.com,gmail-smtp-in.l.google.com', hosts: ['alt1.gmail-smtp-in.l.google.com', 'gmail-smtp-in.l.google.com'] });
});

test('source IP choice: the new IP takes its daily warm-up allowance per provider, then warm IPs in turn; disabled IPs are skipped', () => {
  let now = Date.parse('2026-11-29T10:00:00Z');
  const shaper = new Shaper({ rules: () => rules, pools, owner: 't', now: () => now });
  const pick = (domain = 'gmail.com') => {
    const ip = shaper.chooseIp(google, domain, undefined)!;
    shaper.released(shaper.lane(ip, google, domain));
    return ip;
  };
  assert.deepEqual(Array.from({ length: 6 }, () => pick()), ['192.0.2.1', '192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.2', '192.0.2.3']);
  now += 86_400_000; // day 1 of the ramp: 4
  assert.deepEqual(Array.from({ length: 5 }, () => pick()).filter((ip) => ip === '192.0.2.1').length, 4);
  // the automation disabled 192.0.2.2 for the site: only .3 remains among the warm IPs
  const lane2 = shaper.lane('192.0.2.2', google, 'gmail.com');
  lane2.state = { ...lane2.state, disabledUntil: now + 60_000 };
  assert.deepEqual(Array.from({ length: 3 }, () => pick()), ['192.0.2.3', '192.0.2.3', '192.0.2.3']);
  now += 2 * 86_400_000; // the ramp is over: 192.0.2.1 is a warm IP like the others
  assert.ok(Array.from({ length: 4 }, () => pick()).includes('192.0.2.1'));
  // without pools, the OS picks
  assert.equal(new Shaper({ rules: () => rules, owner: 't' }).chooseIp(google, 'gmail.com', undefined), ANY_IP);
});

test('learned state: a lane starts from the record on the state topic, the last healthy rate included; fields an older record lacks keep their initial values', () => {
  const shaper = new Shaper({ rules: () => rules, owner: 'me', now: () => 1000 });
  const other = new Shaper({ rules: () => rules, owner: 'other', now: () => 1000 });
  const lane = other.lane(ANY_IP, google, 'gmail.com');
  lane.state = { ...lane.state, rate: 4, lastGood: 9, phase: 'recovery', backingOff: true };
  shaper.learn(JSON.parse(JSON.stringify(other.record(lane))));
  const { lastGood: _drop, backingOff: _drop2, ...older } = { ...lane.state, rate: 6 };
  const otherSite = siteOf(['mx.other.test']);
  const oldLane = other.lane(ANY_IP, otherSite, 'other.test');
  shaper.learn({ ...other.record(oldLane), state: older as typeof lane.state });
  const got = shaper.lane(ANY_IP, google, 'gmail.com').state;
  assert.deepEqual([got.rate, got.lastGood, got.phase, got.backingOff], [4, 9, 'recovery', true]);
  const old = shaper.lane(ANY_IP, otherSite, 'other.test').state;
  assert.deepEqual([old.rate, old.lastGood, old.backingOff], [6, 0, false]);
  // its own records are not learned back
  const mine = new Shaper({ rules: () => rules, owner: 'other', now: () => 1000 });
  mine.learn(other.record(lane));
  assert.equal(mine.lane(ANY_IP, google, 'gmail.com').state.lastGood, 0);
});

test('operator commands: applied to the lanes held, broadcast, and standing for lanes created while they last; resume by the same selector', () => {
  let now = 1_000_000;
  const sent: unknown[] = [];
  const a = new Shaper({ rules: () => rules, owner: 'a', now: () => now, onCommand: (c) => sent.push(c) });
  const b = new Shaper({ rules: () => rules, owner: 'b', now: () => now });
  const other = siteOf(['mx.other.test']);
  a.lane(ANY_IP, other, 'other.test');
  b.lane(ANY_IP, google, 'gmail.com');
  // suspend google on a (which holds no google lane): broadcast; b applies it to its lane
  assert.deepEqual(a.operator('suspend', { provider: 'google' }, 'alice', 60), []);
  assert.equal(sent.length, 1);
  const cmd = JSON.parse(JSON.stringify(sent[0])) as Parameters<Shaper['command']>[0];
  assert.deepEqual([cmd.kind, cmd.action, cmd.until, cmd.key], ['command', 'suspend', now + 60_000, 'cmd|[null,null,"google",null]']);
  assert.deepEqual(b.command(cmd).map((l) => l.key), [`-|${google.site}`]);
  assert.equal(b.limits(b.lane(ANY_IP, google, 'gmail.com')).suspendedUntil, now + 60_000);
  assert.equal(b.limits(b.lane(ANY_IP, other, 'other.test')).suspendedUntil, 0, 'other providers are not touched');
  // a google lane created later on a (another Workspace domain) starts suspended until the command ends
  const workspace = siteOf(['aspmx.l.google.com']);
  a.command(cmd);
  assert.equal(a.limits(a.lane(ANY_IP, workspace, 'workspace.test')).suspendedUntil, now + 60_000);
  assert.match(a.lane(ANY_IP, workspace, 'workspace.test').state.reason, /suspended by operator alice/);
  // replayed idempotently; a resume with the same selector ends it everywhere and for later lanes
  b.command(cmd);
  now += 10_000;
  a.operator('resume', { provider: 'google' }, 'bob');
  b.command(JSON.parse(JSON.stringify(sent[1])));
  assert.equal(b.limits(b.lane(ANY_IP, google, 'gmail.com')).suspendedUntil, 0);
  assert.equal(a.limits(a.lane(ANY_IP, workspace, 'workspace.test')).suspendedUntil, 0);
  assert.equal(a.limits(a.lane(ANY_IP, siteOf(['alt2.aspmx.l.google.com']), 'late.test')).suspendedUntil, 0);
  // an expired suspension (replayed after its end) does nothing
  const c = new Shaper({ rules: () => rules, owner: 'c', now: () => now + 120_000 });
  c.command(cmd);
  assert.equal(c.limits(c.lane(ANY_IP, google, 'gmail.com')).suspendedUntil, 0);
});
