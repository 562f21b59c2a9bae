import type { DeliveryKpis, DomainCounts, ReasonCounts, Status, StatusRecord } from '@mta/contracts';
import type { MessageState } from './fold.ts';

/** One delivery's indicators while they are being counted (plain data). */
export interface DeliveryAgg {
  deliveryId: string;
  tenant?: string;
  messages: number;
  takenIntoAccount: number;
  sent: number;
  failed: number;
  failedHard: number;
  failedExpired: number;
  failedRejected: number;
  asyncBounces: number;
  softBounces: number;
  complaints: number;
  byReason: Map<string, ReasonCounts>;
  byDomain: Map<string, DomainCounts>;
  statusRecords: number;
  firstEventAt: string;
  lastEventAt: string;
}

export const OTHER_DOMAINS = '(other)';
export const NO_DOMAIN = '(no domain)';

export function emptyAgg(deliveryId: string, tenant?: string): DeliveryAgg {
  return {
    deliveryId,
    ...(tenant ? { tenant } : {}),
    messages: 0,
    takenIntoAccount: 0,
    sent: 0,
    failed: 0,
    failedHard: 0,
    failedExpired: 0,
    failedRejected: 0,
    asyncBounces: 0,
    softBounces: 0,
    complaints: 0,
    byReason: new Map(),
    byDomain: new Map(),
    statusRecords: 0,
    firstEventAt: '',
    lastEventAt: '',
  };
}

export function domainOf(recipient: string): string {
  const at = recipient.lastIndexOf('@');
  return at < 0 ? NO_DOMAIN : recipient.slice(at + 1).toLowerCase();
}

const statusField = { taken_into_account: 'takenIntoAccount', sent: 'sent', failed: 'failed' } as const satisfies Record<Status, keyof DeliveryAgg>;

function domainRow(agg: DeliveryAgg, recipient: string, maxDomains: number): DomainCounts {
  let domain = domainOf(recipient);
  if (!agg.byDomain.has(domain) && agg.byDomain.size >= maxDomains) domain = OTHER_DOMAINS;
  let row = agg.byDomain.get(domain);
  if (!row) agg.byDomain.set(domain, (row = { messages: 0, sent: 0, failed: 0, softBounces: 0 }));
  return row;
}

function reasonRow(agg: DeliveryAgg, reason: string): ReasonCounts {
  let row = agg.byReason.get(reason);
  if (!row) agg.byReason.set(reason, (row = { failed: 0, softBounces: 0 }));
  return row;
}

/**
 * Counts one accepted status record (`prev` → `next` for its message, see `acceptTransition`)
 * into its delivery. A message is counted once, under its current status; a status change
 * moves it between counters, so messages = takenIntoAccount + sent + failed at all times.
 */
export function countTransition(agg: DeliveryAgg, prev: MessageState | undefined, next: MessageState, r: StatusRecord, maxDomains: number): void {
  agg.statusRecords++;
  if (!agg.firstEventAt || Date.parse(r.timestamp) < Date.parse(agg.firstEventAt)) agg.firstEventAt = r.timestamp;
  if (!agg.lastEventAt || Date.parse(r.timestamp) > Date.parse(agg.lastEventAt)) agg.lastEventAt = r.timestamp;
  const domain = domainRow(agg, r.recipient, maxDomains);
  if (!prev) {
    agg.messages++;
    domain.messages++;
  }
  if (prev?.status !== next.status) {
    if (prev) {
      agg[statusField[prev.status]]--;
      if (prev.status === 'sent') domain.sent--;
    }
    agg[statusField[next.status]]++;
    if (next.status === 'sent') domain.sent++;
    if (next.status === 'failed') {
      domain.failed++;
      if (r.event === 'expired') agg.failedExpired++;
      else if (r.event === 'rejected') agg.failedRejected++;
      else agg.failedHard++;
      reasonRow(agg, r.failureReason ?? 'Not defined').failed++;
    }
  }
  if (r.event === 'async_bounce') agg.asyncBounces++;
  if (r.event === 'complaint') agg.complaints++;
  if (r.event === 'soft_bounce') {
    agg.softBounces++;
    domain.softBounces++;
    reasonRow(agg, r.failureReason ?? 'Not defined').softBounces++;
  }
}

const percent = (n: number, of: number) => (of === 0 ? 0 : Math.round((n / of) * 10000) / 100);

/** The record published on mta.delivery-kpis and served over HTTP. */
export function toKpiRecord(a: DeliveryAgg): DeliveryKpis {
  const byDomain = [...a.byDomain].sort((x, y) => y[1].messages - x[1].messages || (x[0] < y[0] ? -1 : 1));
  // Top reasons first: by failed messages, then by soft-bounce updates.
  const byReason = [...a.byReason].sort((x, y) => y[1].failed - x[1].failed || y[1].softBounces - x[1].softBounces || (x[0] < y[0] ? -1 : 1));
  return {
    v: 1,
    deliveryId: a.deliveryId,
    ...(a.tenant ? { tenant: a.tenant } : {}),
    messages: a.messages,
    takenIntoAccount: a.takenIntoAccount,
    sent: a.sent,
    failed: a.failed,
    failedHard: a.failedHard,
    failedExpired: a.failedExpired,
    failedRejected: a.failedRejected,
    asyncBounces: a.asyncBounces,
    softBounces: a.softBounces,
    complaints: a.complaints,
    successRate: percent(a.sent, a.messages),
    bounceRate: percent(a.failed, a.messages),
    byReason: Object.fromEntries(byReason.map(([k, v]) => [k, { ...v }])),
    byDomain: Object.fromEntries(byDomain.map(([k, v]) => [k, { ...v }])),
    statusRecords: a.statusRecords,
    firstEventAt: a.firstEventAt,
    lastEventAt: a.lastEventAt,
  };
}
