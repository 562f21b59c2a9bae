/** Pure parts of `npm run demo`: the sample campaign, the progress line and the KPI table. */
import { parse, stringify } from 'yaml';
import type { DeliveryKpis } from '@mta/contracts';

/**
 * The shipped shaping rules (services/throttle/shaping.default.yaml: providers' connection knobs
 * and reply automation) with every lane starting at `startRate` msg/s and time compressed
 * `compress`× for a run of a minute or two: adaptation interval 60 s → 2 s, automation windows and
 * durations divided likewise. Used by `npm run demo` and `npm run bench:adaptive`.
 */
export function demoShapingRules(shippedYaml: string, startRate = 3, compress = 30): string {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const doc = parse(shippedYaml) as Record<string, any>;
  // Every duration of the rules divided by `compress` (the ISP simulator's by the same factor:
  // startIspSim({ timeScale })); rates, steps and counts unchanged. The token bucket (burst: one
  // second of the rate) is not a duration of the rules but a tolerance at the pipeline's real speed.
  const s = (seconds: number) => Math.max(1, Math.round(seconds / compress));
  doc.adaptive = { enabled: true, minRate: 1, maxRate: 200, increase: 1, decrease: 0.7, intervalS: s(60), slowStart: 1.5 };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const shorten = (rules: any[] | undefined) => {
    for (const r of rules ?? []) {
      r.durationS = s(r.durationS);
      if (r.trigger && typeof r.trigger === 'object') r.trigger.windowS = s(r.trigger.windowS);
    }
  };
  shorten(doc.automation);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  for (const r of Object.values((doc.ratios ?? {}) as Record<string, any>)) {
    r.windowS = s(r.windowS);
    r.suspendS = s(r.suspendS);
  }
  doc.defaults.messagesPerSecond = startRate;
  delete doc.defaults.tls; // the simulator offers no STARTTLS: providers' TLS policies are left out
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  for (const p of Object.values(doc.providers as Record<string, any>)) {
    p.messagesPerSecond = startRate;
    delete p.tls;
    shorten(p.automation);
  }
  return stringify(doc);
}

export interface DemoRequest {
  messageId: string;
  deliveryId: string;
  from: string;
  to: string;
  subject: string;
  text: string;
}

/** A deterministic, well-mixed number in [0, 1) for message i (a different salt, a different draw). */
export function unit(i: number, salt: number): number {
  let h = Math.imul(i ^ salt, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) / 2 ** 32;
}

/**
 * N requests spread over `domains` (in turn), with the special recipients the ISP simulator
 * recognises by local part: about 3 % `unknown*` (user unknown), 2 % `full*` (mailbox full on the
 * first try), 5 % `grey*` (greylisted on the first try).
 */
export function campaign(n: number, deliveryId: string, domains: readonly string[]): DemoRequest[] {
  if (domains.length === 0) throw new Error('campaign: no domains');
  const out: DemoRequest[] = [];
  for (let i = 0; i < n; i++) {
    const u = unit(i, 0x5eed);
    const kind = u < 0.03 ? 'unknown' : u < 0.05 ? 'full' : u < 0.1 ? 'grey' : 'user';
    const domain = domains[i % domains.length]!;
    out.push({
      messageId: `${deliveryId}-${i}`,
      deliveryId,
      from: 'Demo Brand <news@brand.example>',
      to: `${kind}${i}@${domain}`,
      subject: `Our winter offers (${i})`,
      text: `Hello ${kind}${i},\n\nthis is message ${i} of the demo campaign ${deliveryId}.\n`,
    });
  }
  return out;
}

export interface Progress {
  total: number;
  sent: number;
  failed: number;
  waiting: number;
  elapsedS: number;
  ratePerS: number;
}

/** `[#####-----]  62 %  sent 1800  failed 60  waiting 1140  312 msg/s  12 s` */
export function progressLine(p: Progress, width = 30): string {
  const w = Math.max(10, width);
  const done = p.total === 0 ? 1 : (p.sent + p.failed) / p.total;
  const sentCells = p.total === 0 ? 0 : Math.round((p.sent / p.total) * w);
  const failedCells = Math.min(w - sentCells, p.total === 0 ? 0 : Math.round((p.failed / p.total) * w));
  const bar = '#'.repeat(sentCells) + 'x'.repeat(failedCells) + '-'.repeat(w - sentCells - failedCells);
  return `[${bar}] ${String(Math.floor(done * 100)).padStart(3)} %  sent ${p.sent}  failed ${p.failed}  waiting ${p.waiting}  ${Math.round(p.ratePerS)} msg/s  ${Math.round(p.elapsedS)} s`;
}

const row = (label: string, value: string | number) => `  ${label.padEnd(34)} ${String(value).padStart(10)}`;

/** The delivery's KPIs as a plain-text table. */
export function kpiTable(k: DeliveryKpis): string {
  const lines = [
    `Delivery ${k.deliveryId}`,
    row('Messages', k.messages),
    row('Taken into account (waiting)', k.takenIntoAccount),
    row('Sent', k.sent),
    row('Failed', k.failed),
    row('  hard bounces', k.failedHard),
    row('  expired (soft until validity end)', k.failedExpired),
    row('  rejected by the MTA', k.failedRejected),
    row('Soft-bounce updates', k.softBounces),
    row('Complaints', k.complaints),
    row('Success %', `${k.successRate.toFixed(2)} %`),
    row('Bounces + errors %', `${k.bounceRate.toFixed(2)} %`),
  ];
  const reasons = Object.entries(k.byReason).sort((a, b) => b[1].failed + b[1].softBounces - (a[1].failed + a[1].softBounces));
  if (reasons.length) {
    lines.push('', '  Failure reasons                      failed  soft bounces');
    for (const [reason, c] of reasons) lines.push(`  ${reason.padEnd(34)} ${String(c.failed).padStart(6)}  ${String(c.softBounces).padStart(12)}`);
  }
  const domains = Object.entries(k.byDomain).sort((a, b) => b[1].messages - a[1].messages);
  if (domains.length) {
    lines.push('', '  Domain                             messages    sent  failed  soft bounces');
    for (const [d, c] of domains) lines.push(`  ${d.padEnd(34)} ${String(c.messages).padStart(8)} ${String(c.sent).padStart(7)} ${String(c.failed).padStart(7)}  ${String(c.softBounces).padStart(12)}`);
  }
  return lines.join('\n');
}
