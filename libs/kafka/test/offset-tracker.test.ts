import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OffsetTracker, PartitionTracker } from '../src/offset-tracker.ts';
import { SeenWindow } from '../src/seen-window.ts';

test('committable offset never passes an unfinished record', () => {
  const cases: { dispatch: number[]; finish: number[]; expect: bigint | undefined }[] = [
    { dispatch: [], finish: [], expect: undefined },
    { dispatch: [5], finish: [], expect: 5n },
    { dispatch: [5, 6, 7], finish: [6, 7], expect: 5n },
    { dispatch: [5, 6, 7], finish: [5], expect: 6n },
    { dispatch: [5, 6, 7], finish: [5, 7], expect: 6n },
    { dispatch: [5, 6, 7], finish: [7, 6, 5], expect: 8n },
    { dispatch: [10, 20, 30], finish: [10, 20], expect: 30n },
  ];
  for (const c of cases) {
    const t = new PartitionTracker();
    for (const o of c.dispatch) t.dispatch(BigInt(o));
    for (const o of c.finish) t.finish(BigInt(o));
    const got = t.committable();
    // With nothing finished, the first offset is "committable" as a no-op position.
    assert.equal(got, c.expect, `dispatch ${c.dispatch} finish ${c.finish}`);
  }
});

test('an offset already committed is not offered again', () => {
  const t = new PartitionTracker();
  t.dispatch(1n);
  t.finish(1n);
  assert.equal(t.committable(), 2n);
  t.markCommitted(2n);
  assert.equal(t.committable(), undefined);
  t.dispatch(2n);
  assert.equal(t.committable(), undefined, 'still 2: record 2 is in flight');
  t.finish(2n);
  assert.equal(t.committable(), 3n);
});

test('dispatching out of order is a bug and throws', () => {
  const t = new PartitionTracker();
  t.dispatch(3n);
  assert.throws(() => t.dispatch(3n), /dispatched after/);
});

test('tracker compacts after many finished records and keeps counting', () => {
  const t = new OffsetTracker();
  for (let i = 0; i < 5000; i++) t.dispatch('a', 0, BigInt(i));
  for (let i = 0; i < 4999; i++) t.finish('a', 0, BigInt(i));
  assert.equal(t.inFlight, 1);
  assert.deepEqual(t.committable(), [{ topic: 'a', partition: 0, offset: 4999n }]);
  t.finish('a', 0, 4999n);
  assert.deepEqual(t.committable(), [{ topic: 'a', partition: 0, offset: 5000n }]);
});

test('partitions are tracked independently', () => {
  const t = new OffsetTracker();
  t.dispatch('a', 0, 1n);
  t.dispatch('a', 1, 1n);
  t.finish('a', 1, 1n);
  const c = t.committable().sort((x, y) => x.partition - y.partition);
  assert.deepEqual(c, [
    { topic: 'a', partition: 0, offset: 1n },
    { topic: 'a', partition: 1, offset: 2n },
  ]);
});

test('seen window remembers ids within its size and age', () => {
  let now = 0;
  const w = new SeenWindow(3, 1000, () => now);
  assert.equal(w.checkAndAdd('a'), false);
  assert.equal(w.checkAndAdd('a'), true);
  w.checkAndAdd('b');
  w.checkAndAdd('c');
  w.checkAndAdd('d'); // evicts a (size 3)
  assert.equal(w.has('a'), false);
  assert.equal(w.has('d'), true);
  now = 5000; // everything older than 1 s is gone
  assert.equal(w.has('d'), false);
  assert.equal(w.size, 0);
});

test('seen window of size 0 remembers nothing', () => {
  const w = new SeenWindow(0, 1000);
  assert.equal(w.checkAndAdd('a'), false);
  assert.equal(w.checkAndAdd('a'), false);
  w.add('b');
  assert.equal(w.has('b'), false);
  assert.equal(w.size, 0);
});
