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
