/**
 * `npm run demo` end to end, small: the five services, the ISP simulator and a 60-message
 * campaign on the test broker (fresh topics); the demo must finish every message and print the
 * delivery's KPI table and the dashboard's address.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { ROOT } from '@mta/testkit';
import { campaign } from '../scripts/demo-lib.ts';

test('npm run demo: a small campaign through the simulated providers ends with the KPI table and the dashboard address', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--exit'], {
    cwd: ROOT,
    env: { ...process.env, DEMO_MESSAGES: '60', DEMO_TIMEOUT_S: '240' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 0, out);
  assert.match(out, /ISP simulator: DNS 127\.0\.0\.1:\d+/);
  assert.match(out, /\] 100 %  sent \d+  failed \d+  waiting 0/, 'the progress reaches 100 %');
  const num = (label: string) => Number(new RegExp(`^ +${label.replace(/[+%]/g, '\\$&')} +(\\d+)`, 'm').exec(out)?.[1]);
  assert.equal(num('Messages'), 60);
  assert.equal(num('Sent') + num('Failed'), 60, 'every message is final');
  // The campaign is deterministic: its unknown users bounce hard, everyone else is delivered
  // (greylisted and full mailboxes after retries).
  const unknown = campaign(60, 'x', ['a.test']).filter((m) => m.to.startsWith('unknown')).length;
  assert.equal(num('hard bounces'), unknown, out);
  assert.equal(num('Sent'), 60 - unknown, out);
  if (unknown > 0) assert.match(out, /User unknown\s+\d+/);
  assert.match(out, /dashboard: http:\/\/127\.0\.0\.1:\d+\/dashboard/);
});
