/**
 * Runs `f`, retrying with a growing delay (100 ms doubling to 2 s) while it fails with a
 * retriable kafkajs error, e.g. NOT_LEADER_OR_FOLLOWER / UNKNOWN_TOPIC_OR_PARTITION while the broker
 * is still loading a just-created partition; those pass within seconds. Other errors, and the
 * last one after `timeoutMs`, are thrown.
 */
export async function retrying<T>(f: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
    try {
      return await f();
    } catch (err) {
      if (!(err as { retriable?: boolean }).retriable || Date.now() + delay > deadline) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
