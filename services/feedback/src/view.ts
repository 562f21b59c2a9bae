import type { DeliveryKpis, StatusRecord } from '@mta/contracts';
import { acceptTransition } from './fold.ts';
import { countTransition, emptyAgg, toKpiRecord, type DeliveryAgg } from './kpis.ts';
import type { MessageStore } from './message-store.ts';
import { Throughput } from './throughput.ts';

export interface ViewLimits {
  /** Deliveries whose KPIs are kept (least recently updated forgotten first). */
  maxDeliveries: number;
  /** Recipient domains counted separately per delivery; the rest go to "(other)". */
  maxDomainsPerDelivery: number;
}

/**
 * The KPIs as a fold over `mta.status`: every status record is applied once per message
 * (`acceptTransition` on the message's `view` state drops duplicates), so the numbers are a
 * function of the topic's content and come out the same after a rebuild. Applying a record also
 * brings the message's `fold` state up to date, which is how a restarted instance relearns what
 * it has already published.
 */
export class StatusView {
  private deliveries = new Map<string, DeliveryAgg>();
  private dirty = new Set<string>();
  readonly throughput = new Throughput();
  applied = 0;

  constructor(
    private readonly store: MessageStore,
    private readonly limits: ViewLimits,
  ) {}

  apply(r: StatusRecord): void {
    const id = r.messageId;
    const fold = acceptTransition(this.store.get(id, 'fold'), r);
    if (fold) this.store.set(id, 'fold', fold);
    const prev = this.store.get(id, 'view');
    const next = acceptTransition(prev, r);
    if (!next) return;
    this.store.set(id, 'view', next);
    let agg = this.deliveries.get(r.deliveryId);
    if (agg) this.deliveries.delete(r.deliveryId);
    else agg = emptyAgg(r.deliveryId, r.tenant);
    this.deliveries.set(r.deliveryId, agg);
    if (this.deliveries.size > this.limits.maxDeliveries) {
      const oldest = this.deliveries.keys().next().value as string;
      this.deliveries.delete(oldest);
      this.dirty.delete(oldest);
    }
    countTransition(agg, prev, next, r, this.limits.maxDomainsPerDelivery);
    this.throughput.add(prev, next, r);
    this.dirty.add(r.deliveryId);
    this.applied++;
  }

  get(deliveryId: string): DeliveryKpis | undefined {
    const a = this.deliveries.get(deliveryId);
    return a && toKpiRecord(a);
  }

  /** Deliveries, most recently updated first. */
  list(limit = Infinity): DeliveryKpis[] {
    const all = [...this.deliveries.values()];
    return all.slice(Math.max(0, all.length - limit)).reverse().map(toKpiRecord);
  }

  get deliveryCount(): number {
    return this.deliveries.size;
  }

  /** Snapshots of the deliveries changed since the last call. */
  takeDirty(): DeliveryKpis[] {
    const out: DeliveryKpis[] = [];
    for (const id of this.dirty) {
      const a = this.deliveries.get(id);
      if (a) out.push(toKpiRecord(a));
    }
    this.dirty.clear();
    return out;
  }

  /** Marks deliveries to publish again (after a failed produce, or every one after a rebuild). */
  markDirty(ids: Iterable<string> = this.deliveries.keys()): void {
    for (const id of ids) if (this.deliveries.has(id)) this.dirty.add(id);
  }
}
