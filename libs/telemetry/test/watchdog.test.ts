import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics } from '../src/metrics.ts';
import { watchdogMetrics } from '../src/watchdog.ts';

/** Issue 5 §3: a watchdog metric shows the oldest message per stage, on /metrics (Prometheus text). */
test('watchdog gauge: the age of the oldest message each stage holds, 0 for an idle stage', async () => {
  const m = createMetrics('watchdog-test');
  const now = 1_800_000_000_000;
  let held: number | undefined = now - 90_000;
  watchdogMetrics(
    m.meter,
    () => [
      { stage: 'throttle', oldest: () => held },
      { stage: 'bounce-classifier/retry', oldest: () => undefined },
    ],
    () => now,
  );
  const gauge = (text: string, stage: string) => Number(new RegExp(`^mta_oldest_message_age_seconds\\{stage="${stage}"[^}]*\\} ([\\d.e+-]+)$`, 'm').exec(text)?.[1]);
  let text = await m.render();
  assert.match(text, /# TYPE mta_oldest_message_age_seconds gauge/);
  assert.equal(gauge(text, 'throttle'), 90, text);
  assert.equal(gauge(text, 'bounce-classifier/retry'), 0, text);
  held = undefined; // the message left the stage
  text = await m.render();
  assert.equal(gauge(text, 'throttle'), 0, text);
  held = now + 5000; // a clock skewed producer: never a negative age
  assert.equal(gauge(await m.render(), 'throttle'), 0);
  await m.shutdown();
});
