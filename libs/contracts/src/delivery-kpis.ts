import { Type, type Static } from '@sinclair/typebox';
import { codec } from './codec.ts';

const Count = (description: string) => Type.Integer({ minimum: 0, description });
const Percent = (description: string) => Type.Number({ minimum: 0, maximum: 100, description });

/** Counts of one failure reason within a delivery. */
export const ReasonCountsSchema = Type.Object(
  {
    failed: Count('Messages of the delivery that failed with this reason.'),
    softBounces: Count('Soft-bounce updates (status unchanged) that carried this reason.'),
  },
  { additionalProperties: false },
);

/** Counts of one recipient domain within a delivery. */
export const DomainCountsSchema = Type.Object(
  {
    messages: Count('Messages of the delivery to this domain.'),
    sent: Count('Of those, currently sent.'),
    failed: Count('Of those, currently failed.'),
    softBounces: Count('Soft-bounce updates to this domain.'),
  },
  { additionalProperties: false },
);

/**
 * `mta.delivery-kpis` v1 (feedback → Campaign dashboards, analysts), key = deliveryId, compacted:
 * the latest snapshot of one delivery's indicators. Every number is a function of the delivery's
 * records on `mta.status` (see docs/analysts.md), so a snapshot republished after a restart
 * carries the same numbers; `statusRecords` only grows and orders snapshots of one delivery.
 */
export const DeliveryKpisSchema = Type.Object(
  {
    v: Type.Literal(1),
    deliveryId: Type.String({ description: 'Campaign delivery (the record key).' }),
    tenant: Type.Optional(Type.String()),
    messages: Count('Distinct messages of the delivery seen on mta.status (= takenIntoAccount + sent + failed).'),
    takenIntoAccount: Count('Messages whose current status is taken_into_account (accepted, not final yet).'),
    sent: Count('Messages whose current status is sent.'),
    failed: Count('Messages whose current status is failed (= failedHard + failedExpired + failedRejected).'),
    failedHard: Count('Failed by a hard bounce, synchronous or asynchronous.'),
    failedExpired: Count('Failed because the validity period ended (soft bounces until expiry).'),
    failedRejected: Count('Failed because the MTA rejected the request (validation).'),
    asyncBounces: Count('Asynchronous bounces applied (a hard one turns sent into failed).'),
    softBounces: Count('Soft-bounce updates: status kept, failure reason updated.'),
    complaints: Count('Feedback-loop complaints (reason "Denylisted address"; the delivery outcome is kept).'),
    successRate: Percent('Success %: sent / messages × 100, 0 when there are no messages, rounded to 2 decimals.'),
    bounceRate: Percent('Bounces + errors %: failed / messages × 100, rounded to 2 decimals.'),
    byReason: Type.Record(Type.String(), ReasonCountsSchema, { description: "Counts by Campaign failure reason (e.g. \"User unknown\")." }),
    byDomain: Type.Record(Type.String(), DomainCountsSchema, {
      description: 'Counts by recipient domain (lower case). Past the per-delivery domain limit, further domains are summed under "(other)".',
    }),
    statusRecords: Count('Status records of this delivery folded so far: grows with every snapshot, so a reader keeps the highest.'),
    firstEventAt: Type.String({ description: 'Earliest event timestamp among those records (ISO 8601).' }),
    lastEventAt: Type.String({ description: 'Latest event timestamp among those records (ISO 8601).' }),
  },
  { additionalProperties: false, $id: 'mta.delivery-kpis/v1' },
);
export type DeliveryKpis = Static<typeof DeliveryKpisSchema>;
export type ReasonCounts = Static<typeof ReasonCountsSchema>;
export type DomainCounts = Static<typeof DomainCountsSchema>;
export const DeliveryKpisCodec = codec(DeliveryKpisSchema);
