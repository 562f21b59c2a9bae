/** The longest delay setTimeout takes: a longer one fires at once (Node turns it into 1 ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A timer that fires at `at` (ms since epoch: a message's validity end; at once if past), or
 * undefined when `at` is beyond what a timer can wait (~24.8 days; validity is capped at 84 h by
 * default): the holder of the message then checks the deadline itself when it next handles it.
 * For the places a message waits in memory (the throttle's token queue, the sender's pool queue).
 */
export function deadlineTimer(at: number, fire: () => void, now: number = Date.now()): NodeJS.Timeout | undefined {
  const wait = Math.max(0, at - now);
  return wait <= MAX_TIMER_MS ? setTimeout(fire, wait) : undefined;
}
