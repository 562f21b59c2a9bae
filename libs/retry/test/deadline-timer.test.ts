import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deadlineTimer, MAX_TIMER_MS } from '../src/deadline-timer.ts';

test('deadline timer: fires at the deadline, at once when it has passed, not at all beyond a timer\'s reach', async () => {
  const now = 1_000_000;
  const fired: string[] = [];
  const soon = deadlineTimer(now + 20, () => fired.push('soon'), now);
  const past = deadlineTimer(now - 5_000, () => fired.push('past'), now);
  const edge = deadlineTimer(now + MAX_TIMER_MS, () => fired.push('edge'), now);
  const beyond = deadlineTimer(now + MAX_TIMER_MS + 1, () => fired.push('beyond'), now);
  assert.ok(soon && past && edge, 'a timer for every deadline a timer can wait for');
  assert.equal(beyond, undefined, 'none past 2^31-1 ms: setTimeout would fire it at once');
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(fired.sort(), ['past', 'soon']);
  clearTimeout(edge);
});
