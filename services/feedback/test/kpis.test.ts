import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failure, type EventName, type MtaEvent, type StatusRecord } from '@mta/contracts';
import { foldEvent } from '../src/fold.ts';
import { MessageStore, pack, unpack } from '../src/message-store.ts';
import { StatusView } from '../src/view.ts';

const F = {
  hard: failure('hard', 1, 10, 'bad-mailbox', '550 5.1.1 user unknown'),
  full: failure('soft', 5, 22, 'quota-issues', '452 4.2.2 mailbox full'),
  grey: failure('soft', 20, 50, 'policy-related', '451 4.7.1 greylisted'),
  expired: failure('soft', 3, 24, 'message-expired', 'validity ended'),
  rejected: failure('ignored', 25, 25, 'invalid-request', 'missing to'),
  complaint: failure('hard', 8, 90, 'complaint', 'abuse report'),
};

let clock = Date.parse('2026-11-29T10:00:00.000Z');
function ev(messageId: string, event: EventName, attempt: number, to: string, f?: MtaEvent['failure']): MtaEvent {
  clock += 1000;
  return { v: 1, messageId, deliveryId: 'd1', recipient: to, event, attempt, timestamp: new Date(clock).toISOString(), ...(f ? { failure: f } : {}) };
}

/** The delivery of issue 7 §5: delivered, hard-bounced, soft-then-delivered, expired, rejected, plus an async bounce and a complaint. */
const delivery: MtaEvent[] = [
  ev('m1', 'accepted', 0, 'alice@example.com'),
  ev('m2', 'accepted', 0, 'hard@example.com'),
  ev('m3', 'accepted', 0, 'full@Other.example'),
  ev('m4', 'accepted', 0, 'grey@other.example'),
  ev('m5', 'rejected', 0, 'nobody@example.com', F.rejected),
  ev('m6', 'accepted', 0, 'bob@example.com'),
  ev('m7', 'accepted', 0, 'carol@third.example'),
  ev('m1', 'delivered', 1, 'alice@example.com'),
  ev('m2', 'hard_bounce', 1, 'hard@example.com', F.hard),
  ev('m3', 'soft_bounce', 1, 'full@Other.example', F.full),
  ev('m4', 'soft_bounce', 1, 'grey@other.example', F.grey),
  ev('m3', 'delivered', 2, 'full@Other.example'),
  ev('m4', 'soft_bounce', 2, 'grey@other.example', F.grey),
  ev('m4', 'expired', 2, 'grey@other.example', F.expired),
  ev('m6', 'delivered', 1, 'bob@example.com'),
  ev('m6', 'async_bounce', 1, 'bob@example.com', F.hard),
  ev('m7', 'delivered', 1, 'carol@third.example'),
  ev('m7', 'complaint', 1, 'carol@third.example', F.complaint),
];

/** Runs events through the fold and the published records through a view, as the service does. */
function runThrough(events: MtaEvent[], store = new MessageStore(1000), view = new StatusView(store, { maxDeliveries: 10, maxDomainsPerDelivery: 10 })) {
  const published: StatusRecord[] = [];
  for (const e of events) {
    const { state, publish } = foldEvent(store.get(e.messageId, 'fold'), e);
    if (publish) {
      store.set(e.messageId, 'fold', state!);
      published.push(publish);
      view.apply(publish);
    }
  }
  return { store, view, published };
}

test('packed state round-trips every combination', () => {
  for (const status of ['taken_into_account', 'sent', 'failed'] as const)
    for (const reported of [0, 1, 7, 511])
      for (const asyncSoft of [false, true])
        for (const complaint of [false, true]) assert.deepEqual(unpack(pack({ status, reported, asyncSoft, complaint })), { status, reported, asyncSoft, complaint });
  assert.equal(unpack(0), undefined);
});

test('the store keeps fold and view states apart and forgets the least recently written message', () => {
  const s = new MessageStore(2);
  s.set('a', 'fold', { status: 'sent', reported: 2, asyncSoft: false, complaint: false });
  s.set('a', 'view', { status: 'taken_into_account', reported: 1, asyncSoft: true, complaint: true });
  assert.deepEqual(s.get('a', 'fold'), { status: 'sent', reported: 2, asyncSoft: false, complaint: false });
  assert.deepEqual(s.get('a', 'view'), { status: 'taken_into_account', reported: 1, asyncSoft: true, complaint: true });
  s.set('b', 'fold', { status: 'failed', reported: 1, asyncSoft: false, complaint: false });
  s.set('a', 'fold', { status: 'failed', reported: 2, asyncSoft: false, complaint: false }); // a is now the newest
  s.set('c', 'fold', { status: 'sent', reported: 1, asyncSoft: false, complaint: false });
  assert.equal(s.size, 2);
  assert.equal(s.evicted, 1);
  assert.equal(s.get('b', 'fold'), undefined, 'b was the least recently written');
  assert.equal(s.get('a', 'view')?.complaint, true, 'the view half survives a write of the fold half');
});

test('delivery KPIs: statuses, failures by kind, reasons, domains, rates', () => {
  const { view, published } = runThrough(delivery);
  assert.equal(published.length, 18);
  const k = view.get('d1')!;
  const { firstEventAt, lastEventAt, ...rest } = k;
  assert.ok(firstEventAt < lastEventAt);
  assert.deepEqual(rest, {
    v: 1,
    deliveryId: 'd1',
    messages: 7,
    takenIntoAccount: 0,
    sent: 3,
    failed: 4,
    failedHard: 2,
    failedExpired: 1,
    failedRejected: 1,
    asyncBounces: 1,
    softBounces: 3,
    complaints: 1,
    successRate: 42.86,
    bounceRate: 57.14,
    byReason: {
      'User unknown': { failed: 2, softBounces: 0 },
      Refused: { failed: 0, softBounces: 2 },
      'Error ignored': { failed: 1, softBounces: 0 },
      'Mailbox full': { failed: 0, softBounces: 1 },
      Unreachable: { failed: 1, softBounces: 0 },
    },
    byDomain: {
      'example.com': { messages: 4, sent: 1, failed: 3, softBounces: 0 },
      'other.example': { messages: 2, sent: 1, failed: 1, softBounces: 3 },
      'third.example': { messages: 1, sent: 1, failed: 0, softBounces: 0 },
    },
    statusRecords: 18,
  });
  // third.example's message is sent and then complained about: still sent.
  assert.equal(k.byDomain['third.example']!.messages, 1);
});

test('Success % starts at 0 and rises only with sent messages', () => {
  const store = new MessageStore(100);
  const view = new StatusView(store, { maxDeliveries: 10, maxDomainsPerDelivery: 10 });
  runThrough(delivery.slice(0, 4), store, view);
  assert.equal(view.get('d1')!.successRate, 0, 'accepted only: 0 %');
  assert.equal(view.get('d1')!.takenIntoAccount, 4);
  runThrough(delivery.slice(4, 8), store, view);
  const k = view.get('d1')!;
  assert.equal(k.messages, 7, 'm5 is rejected, m6 and m7 accepted');
  assert.equal(k.sent, 1);
  assert.equal(k.successRate, Math.round((1 / 7) * 10000) / 100);
});

test('KPIs are a function of mta.status: duplicates, replays and a rebuild count nothing twice', () => {
  const { view, published } = runThrough(delivery);
  const before = view.get('d1');
  // Replaying every event into the same instance publishes nothing.
  assert.equal(runThrough(delivery, (view as unknown as { store: MessageStore }).store, view).published.length, 0);
  // A new instance rebuilt from the status topic, with every record duplicated, then replaying every event.
  const store = new MessageStore(1000);
  const rebuilt = new StatusView(store, { maxDeliveries: 10, maxDomainsPerDelivery: 10 });
  for (const r of published) {
    rebuilt.apply(r);
    rebuilt.apply(r);
  }
  assert.deepEqual(rebuilt.get('d1'), before);
  assert.equal(runThrough(delivery, store, rebuilt).published.length, 0, 'the rebuilt fold state knows what was published');
  assert.deepEqual(rebuilt.get('d1'), before);
});

test('domains past the per-delivery limit are summed under "(other)"; deliveries past the limit are forgotten', () => {
  const store = new MessageStore(100);
  const view = new StatusView(store, { maxDeliveries: 2, maxDomainsPerDelivery: 2 });
  runThrough([ev('a', 'accepted', 0, 'x@a.example'), ev('b', 'accepted', 0, 'x@b.example'), ev('c', 'accepted', 0, 'x@c.example'), ev('d', 'accepted', 0, 'y@c.example')], store, view);
  assert.deepEqual(Object.keys(view.get('d1')!.byDomain), ['(other)', 'a.example', 'b.example']);
  assert.equal(view.get('d1')!.byDomain['(other)']!.messages, 2);
  for (const id of ['d2', 'd3']) view.apply({ ...foldEvent(undefined, { ...ev('z' + id, 'accepted', 0, 'x@a.example'), deliveryId: id }).publish! });
  assert.deepEqual(view.list().map((d) => d.deliveryId), ['d3', 'd2']);
});

test('dirty deliveries are snapshotted once until they change again', () => {
  const { view } = runThrough(delivery.slice(0, 3));
  assert.deepEqual(view.takeDirty().map((k) => k.messages), [3]);
  assert.deepEqual(view.takeDirty(), []);
  view.markDirty();
  assert.equal(view.takeDirty().length, 1);
});

test('throughput counts transitions per bucket of event time', () => {
  const { view } = runThrough(delivery);
  const series = view.throughput.series(clock, 10, 5);
  const sum = (k: 'accepted' | 'sent' | 'failed' | 'softBounces') => series.reduce((n, p) => n + p[k], 0);
  assert.equal(series.length, 10);
  assert.deepEqual([sum('accepted'), sum('sent'), sum('failed'), sum('softBounces')], [6, 4, 4, 3]);
});
