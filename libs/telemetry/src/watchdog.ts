import type { Meter } from '@opentelemetry/api';

/** One stage's view for the watchdog: when its oldest message entered the stage (ms since epoch). */
export interface AgeSource {
  stage: string;
  oldest(): number | undefined;
}

/**
 * Watchdog gauge: the age of the oldest message each stage of this process is holding (in flight
 * in a handler, or waiting at the head of a delay topic). 0 when the stage holds nothing. An age
 * that keeps growing means a message is stuck; alert on it against the stage's expected wait.
 */
export function watchdogMetrics(meter: Meter, sources: () => readonly AgeSource[], now: () => number = Date.now): void {
  meter
    .createObservableGauge('mta_oldest_message_age_seconds', {
      description: 'Age of the oldest message held by each stage (since it reached the stage topic), 0 when none.',
      unit: 's',
    })
    .addCallback((r) => {
      const t = now();
      for (const s of sources()) {
        const oldest = s.oldest();
        r.observe(oldest === undefined ? 0 : Math.max(0, (t - oldest) / 1000), { stage: s.stage });
      }
    });
}
