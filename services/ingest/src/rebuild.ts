/**
 * For the dedupe window's rebuild: the messageId and acceptance time of an `accepted` event this
 * service produced on the events topic; undefined for every other record (other events, other
 * services, anything unreadable). A cheap byte test skips most records without parsing them.
 */
export function acceptedId(value: Buffer): { id: string; at: number } | undefined {
  if (!value.includes('"accepted"')) return undefined;
  let e: unknown;
  try {
    e = JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
  const { event, messageId, timestamp } = (e ?? {}) as { event?: unknown; messageId?: unknown; timestamp?: unknown };
  if (event !== 'accepted' || typeof messageId !== 'string' || typeof timestamp !== 'string') return undefined;
  const at = Date.parse(timestamp);
  return Number.isFinite(at) ? { id: messageId, at } : undefined;
}
