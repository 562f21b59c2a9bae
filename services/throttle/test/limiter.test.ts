import { test } from 'node:test';
import assert from 'node:assert/strict';
import { take } from '../src/token-bucket.ts';
import { Limiter, WaitExpired } from '../src/limiter.ts';

test('token bucket: burst, then one token per 1/rate', () => {
  let b = { tokens: 2, updatedAt: 0 };
  const waits: number[] = [];
  for (let i = 0; i < 4; i++) {
    const r = take(b, 0, 4, 2);
    b = r.bucket;
    waits.push(r.waitMs);
  }
  assert.deepEqual(waits, [0, 0, 250, 250]);
  const later = take(b, 250, 4, 2);
  assert.equal(later.waitMs, 0);
});

test('limiter: a limited domain does not delay another domain', async () => {
  const limiter = new Limiter();
  const t0 = Date.now();
  const slow: Promise<void>[] = [];
  for (let i = 0; i < 5; i++) slow.push(limiter.acquire('slow.example', 2, 1)); // 1 now, then 2/s: ~2 s
  const fastDone: number[] = [];
  await Promise.all(
    Array.from({ length: 50 }, () => limiter.acquire('fast.example', 1000, 1000).then(() => fastDone.push(Date.now() - t0))),
  );
  assert.ok(Math.max(...fastDone) < 500, `fast domain waited ${Math.max(...fastDone)} ms behind the slow one`);
  assert.equal(limiter.queued().get('slow.example'), 4);
  await Promise.all(slow);
  const elapsed = Date.now() - t0;
  assert.ok(elapsed >= 1900, `slow domain released 5 messages at 2/s in ${elapsed} ms`);
  assert.equal(limiter.waiting, 0);
});

test('limiter: update re-times waiters; rejectAll bounces the queue', async () => {
  const limiter = new Limiter();
  await limiter.acquire('k', 0.1, 1); // the one token; the next would wait 10 s
  const waiting = limiter.acquire('k', 0.1, 1);
  assert.equal(limiter.busy('k'), true);
  limiter.update('k', 1000, 1);
  await waiting; // released at the new rate, not after 10 s
  const a = limiter.acquire('k', 0.01, 1);
  const b = limiter.acquire('k', 0.01, 1);
  assert.equal(limiter.rejectAll('k', new Error('bounced')), 2);
  await assert.rejects(a, /bounced/);
  await assert.rejects(b, /bounced/);
});

test('limiter: a waiter whose deadline passes leaves the queue at once; the others keep their turn', async () => {
  let now = 1_000_000;
  const limiter = new Limiter(() => now);
  await limiter.acquire('k', 0.001, 1); // the one token; the next comes in 1000 s
  const expiring = limiter.acquire('k', 0.001, 1, now + 20); // its validity ends long before that
  const patient = limiter.acquire('k', 0.001, 1, now + 10_000_000);
  const plain = limiter.acquire('k', 0.001, 1);
  assert.equal(limiter.queued().get('k'), 3);
  await assert.rejects(expiring, WaitExpired, 'rejected at its deadline, not at its turn');
  assert.equal(limiter.queued().get('k'), 2, 'and no longer queued');
  now += 1_000_000; // the next token exists: the lane is re-timed and releases in order
  limiter.update('k', 0.001, 1);
  await patient; // the expired waiter took no token
  assert.equal(limiter.queued().get('k'), 1);
  // A deadline beyond what a timer can wait (2^31-1 ms) is not "now": the waiter stays queued.
  const far = limiter.acquire('k', 0.001, 1, now + 40 * 86_400_000);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(limiter.queued().get('k'), 2);
  limiter.rejectAll('k', new Error('done'));
  await assert.rejects(plain, /done/);
  await assert.rejects(far, /done/);
});

test('in-flight window: at most cap per lane, FIFO, freed by settle or expiry', async () => {
  const { InFlightWindow } = await import('../src/window.ts');
  let now = 0;
  const w = new InFlightWindow(1000, () => now);
  await w.acquire('k', 2);
  await w.acquire('k', 2);
  const order: number[] = [];
  const third = w.acquire('k', 2).then(() => order.push(3));
  const fourth = w.acquire('k', 2).then(() => order.push(4));
  await w.acquire('other', 2); // another lane is not held up
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(order, []);
  w.settle('k');
  await third;
  assert.deepEqual(order, [3]);
  assert.equal(w.inFlight('k'), 2);
  now = 5000; // the slots' attempts were never seen: they expire
  assert.equal(w.inFlight('k'), 0);
  w.settle('k');
  await fourth;
  assert.deepEqual(order, [3, 4]);
});
