import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@mta/config';
import { retryKeys } from '../src/retry/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'mta-retry-config-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

test('defaults: the shipped policy and tiers load', () => {
  const r = loadConfig(retryKeys, {});
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  assert.deepEqual(r.config.retryTiers, [120_000, 600_000, 1_800_000, 7_200_000, 14_400_000]);
  assert.ok(r.config.retryPolicy.policy.rules.length > 3);
});

test('a bad policy file or tier list is refused with every problem named', () => {
  const policy = file('bad.txt', 'category=greylisted | 1m, 5q\ncategory=nope | 1m...\ndefault | 5m...\n');
  const r = loadConfig(retryKeys, { MTA_RETRY_POLICY: policy, MTA_RETRY_TIERS: '1m,5m,5m,2h' });
  assert.equal(r.ok, false);
  const errors = r.ok ? [] : r.errors;
  assert.equal(errors.length, 2);
  assert.match(errors[0]!, /^MTA_RETRY_POLICY=.* has errors: line 1: step 2 "5q": .*; line 2: unknown category "nope"/);
  assert.match(errors[1]!, /^MTA_RETRY_TIERS=.* must list 5 durations/);
  const tiers = loadConfig(retryKeys, { MTA_RETRY_TIERS: '1m,5m,5m,2h,1x' });
  assert.match(tiers.ok ? '' : tiers.errors[0]!, /"1x" is not a duration/);
  const order = loadConfig(retryKeys, { MTA_RETRY_TIERS: '1m,5m,5m,2h,8h' });
  assert.match(order.ok ? '' : order.errors[0]!, /tier 3 must be longer than tier 2/);
  const missing = loadConfig(retryKeys, { MTA_RETRY_POLICY: join(dir, 'absent.txt') });
  assert.match(missing.ok ? '' : missing.errors[0]!, /cannot be read/);
});

test('check-policy CLI logic: errors with line numbers, or the deciding rule and its waits', async () => {
  const { checkPolicy } = await import('../src/retry/check-policy.ts');
  const bad = checkPolicy('category=greylisted | 1m, 5q\ndefault | 1h\n');
  assert.equal(bad.ok, false);
  assert.deepEqual(bad.lines, ['line 1: step 2 "5q": "5q" is not a duration (e.g. 500ms, 90s, 5m, 1h30m, 2d)']);
  const good = checkPolicy('jitter = 5%\ndomain=example.com | 1m*2\ndefault | 1h...\n', { category: 'greylisted', domain: 'mail.example.com' });
  assert.deepEqual(good.lines, [
    'ok: 2 rules, jitter ±5 %',
    'rule on line 2: 1m*2',
    'after attempt 1: wait 1m (1 tier hops)',
    'after attempt 2: wait 1m (1 tier hops)',
    'after attempt 3: schedule exhausted, the message fails',
  ]);
});
