/** Default topic names (deploy/topics.json holds partitions and configs). Every service can override them. */
export const DEFAULT_TOPICS = {
  requests: 'mta.requests',
  queue: 'mta.queue',
  deliveries: 'mta.deliveries',
  attempts: 'mta.attempts',
  events: 'mta.events',
  status: 'mta.status',
  deadLetter: 'mta.dead-letter',
  // Tiered delay topics for retries (issue 5, docs/retries.md); delays set by MTA_RETRY_TIERS.
  retry1m: 'mta.retry.1m',
  retry5m: 'mta.retry.5m',
  retry30m: 'mta.retry.30m',
  retry2h: 'mta.retry.2h',
  retry8h: 'mta.retry.8h',
} as const;
export type TopicId = keyof typeof DEFAULT_TOPICS;
export type Topics = Record<TopicId, string>;
