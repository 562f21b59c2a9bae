import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeliveryKpis } from '@mta/contracts';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { campaign, demoShapingRules, kpiTable, progressLine } from '../scripts/demo-lib.ts';

test('the demo campaign mixes providers and the special recipients the simulator knows', () => {
  const c = campaign(2000, 'd1', ['gmail.com', 'yahoo.com', 'outlook.com']);
  assert.equal(c.length, 2000);
  assert.equal(new Set(c.map((m) => m.messageId)).size, 2000, 'messageIds are unique');
  const share = (p: string) => c.filter((m) => m.to.startsWith(p)).length / c.length;
  assert.ok(share('unknown') > 0.015 && share('unknown') < 0.045, `unknown ${share('unknown')}`);
  assert.ok(share('full') > 0.01 && share('full') < 0.035, `full ${share('full')}`);
  assert.ok(share('grey') > 0.03 && share('grey') < 0.07, `grey ${share('grey')}`);
  for (const d of ['gmail.com', 'yahoo.com', 'outlook.com']) assert.ok(c.filter((m) => m.to.endsWith(`@${d}`)).length >= 666);
  assert.deepEqual(campaign(50, 'd1', ['a.test']), campaign(50, 'd1', ['a.test']), 'deterministic');
  assert.throws(() => campaign(1, 'd1', []), /no domains/);
});

test('the progress line shows the bar, counts, rate and time', () => {
  const table: Array<[Parameters<typeof progressLine>[0], RegExp]> = [
    [{ total: 100, sent: 0, failed: 0, waiting: 100, elapsedS: 0, ratePerS: 0 }, /^\[-{10}\]   0 %  sent 0  failed 0  waiting 100  0 msg\/s  0 s$/],
    [{ total: 100, sent: 50, failed: 10, waiting: 40, elapsedS: 12.4, ratePerS: 31.6 }, /^\[#{5}x-{4}\]  60 %  sent 50  failed 10  waiting 40  32 msg\/s  12 s$/],
    [{ total: 100, sent: 97, failed: 3, waiting: 0, elapsedS: 30, ratePerS: 0 }, /^\[#{10}\] 100 %/],
  ];
  for (const [p, want] of table) assert.match(progressLine(p, 10), want);
});

test('the KPI table lists the counts, rates, reasons and domains', () => {
  const k: DeliveryKpis = {
    v: 1,
    deliveryId: 'd1',
    messages: 10,
    takenIntoAccount: 1,
    sent: 7,
    failed: 2,
    failedHard: 1,
    failedExpired: 1,
    failedRejected: 0,
    asyncBounces: 0,
    softBounces: 3,
    complaints: 0,
    successRate: 70,
    bounceRate: 20,
    byReason: { 'User unknown': { failed: 1, softBounces: 0 }, Unreachable: { failed: 1, softBounces: 3 } },
    byDomain: { 'gmail.com': { messages: 6, sent: 5, failed: 1, softBounces: 2 }, 'yahoo.com': { messages: 4, sent: 2, failed: 1, softBounces: 1 } },
    statusRecords: 20,
    firstEventAt: '2026-11-29T00:00:00.000Z',
    lastEventAt: '2026-11-29T00:01:00.000Z',
  };
  const t = kpiTable(k);
  assert.match(t, /Messages\s+10\n/);
  assert.match(t, /Sent\s+7\n/);
  assert.match(t, /Success %\s+70\.00 %/);
  assert.match(t, /Bounces \+ errors %\s+20\.00 %/);
  assert.ok(t.indexOf('Unreachable') < t.indexOf('User unknown'), 'reasons by count, most first');
  assert.match(t, /gmail\.com\s+6\s+5\s+1\s+2/);
});

test('demo shaping rules: every duration of the shipped rules divided by the compression, rates and counts kept', () => {
  const shipped = readFileSync(new URL('../services/throttle/shaping.default.yaml', import.meta.url), 'utf8');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const src = parse(shipped) as any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const out = parse(demoShapingRules(shipped, 3, 30)) as any;
  assert.equal(out.adaptive.intervalS, 2); // 60 s
  const rows: [unknown, unknown][] = [
    [out.automation[1].durationS, Math.round(src.automation[1].durationS / 30)],
    [out.automation[1].trigger.windowS, Math.round(src.automation[1].trigger.windowS / 30)],
    [out.automation[1].trigger.count, src.automation[1].trigger.count],
    [out.providers.google.automation[1].durationS, Math.round(src.providers.google.automation[1].durationS / 30)],
    [out.ratios.invalidRecipient.windowS, src.ratios.invalidRecipient.windowS / 30],
    [out.ratios.invalidRecipient.suspendS, src.ratios.invalidRecipient.suspendS / 30],
    [out.ratios.complaint.windowS, src.ratios.complaint.windowS / 30],
    [out.ratios.complaint.minSamples, src.ratios.complaint.minSamples],
    [out.providers.google.messagesPerSecond, 3],
    [out.providers.google.maxConnections, src.providers.google.maxConnections],
  ];
  for (const [i, [got, want]] of rows.entries()) assert.equal(got, want, `row ${i}`);
  assert.equal(out.providers.google.tls, undefined, 'no STARTTLS in the simulator');
});
