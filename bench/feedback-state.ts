/**
 * Memory and speed of feedback's per-message state (issue 7 §2). Run:
 *   node --expose-gc --import tsx bench/feedback-state.ts [messages=1000000]
 * Reports heap bytes per message for the packed MessageStore against, as a baseline measured in
 * the same run, the previous store (one object per message with a list of seen events), and how
 * fast status records are applied (the rebuild path) and events folded.
 */
import { randomUUID } from 'node:crypto';
import { foldEvent, MessageStore, StatusView, type MessageState } from '@mta/feedback';
import type { MtaEvent, StatusRecord } from '@mta/contracts';

const N = Number(process.argv[2] ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
/** Fresh 36-character id strings, created inside each measurement so that their memory is counted. */
function* freshIds(): Generator<string> {
  // A flat string, as JSON.parse gives a decoded record (randomUUID's own result is a cons string).
  for (let i = 0; i < N; i++) yield Buffer.from(randomUUID(), 'latin1').toString('latin1');
}

function measure(name: string, fill: () => unknown): number {
  const before = heap();
  const keep = fill();
  const perMessage = (heap() - before) / N;
  console.log(`${name}: ${perMessage.toFixed(0)} bytes/message (${((perMessage * N) / 2 ** 20).toFixed(0)} MiB for ${N.toLocaleString('en-US')})`);
  void keep;
  return perMessage;
}

const packed = measure('packed MessageStore (fold + view state)', () => {
  const s = new MessageStore(N);
  const st: MessageState = { status: 'sent', reported: 2, asyncSoft: false, complaint: false };
  for (const id of freshIds()) {
    s.set(id, 'fold', st);
    s.set(id, 'view', st);
  }
  return s;
});
const baseline = measure('baseline: Map of { status, attempt, seen[] } objects', () => {
  const m = new Map<string, { status: string; attempt: number; seen: string[] }>();
  for (const id of freshIds()) m.set(id, { status: 'sent', attempt: 1, seen: ['accepted:0', 'delivered:1'] });
  return m;
});
console.log(`ratio packed / baseline: ${(packed / baseline).toFixed(2)} (36-character ids, counted in both)`);

const ids = Array.from({ length: N }, () => randomUUID());
const records: StatusRecord[] = [];
const events: MtaEvent[] = [];
const M = Math.min(N, 300_000);
for (let i = 0; i < M; i++) {
  const base = { v: 1 as const, messageId: ids[i]!, deliveryId: `d${i % 20}`, recipient: `u${i}@domain${i % 50}.example`, timestamp: '2026-11-29T10:00:00.000Z' };
  const a: MtaEvent = { ...base, event: 'accepted', attempt: 0 };
  const d: MtaEvent = { ...base, event: 'delivered', attempt: 1 };
  events.push(a, d);
  records.push(foldEvent(undefined, a).publish!, foldEvent(foldEvent(undefined, a).state, d).publish!);
}
const view = new StatusView(new MessageStore(N), { maxDeliveries: 1000, maxDomainsPerDelivery: 200 });
let t = performance.now();
for (const r of records) view.apply(r);
const applyRate = records.length / ((performance.now() - t) / 1000);
const store = new MessageStore(N);
t = performance.now();
for (const e of events) {
  const { state, publish } = foldEvent(store.get(e.messageId, 'fold'), e);
  if (publish) store.set(e.messageId, 'fold', state!);
}
const foldRate = events.length / ((performance.now() - t) / 1000);
console.log(`rebuild (StatusView.apply, no Kafka/JSON): ${Math.round(applyRate).toLocaleString('en-US')} records/s; fold: ${Math.round(foldRate).toLocaleString('en-US')} events/s (${records.length.toLocaleString('en-US')} records)`);
