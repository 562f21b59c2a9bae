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
  retry2m: 'mta.retry.2m',
  retry10m: 'mta.retry.10m',
  retry30m: 'mta.retry.30m',
  retry2h: 'mta.retry.2h',
  retry4h: 'mta.retry.4h',
  deliveryKpis: 'mta.delivery-kpis',
  shaping: 'mta.shaping',
  // The throttle's own hop when lanes are owned per site (MTA_THROTTLE_OWNERSHIP=site): mta.queue re-keyed by site.
  siteQueue: 'mta.queue.site',
} as const;
export type TopicId = keyof typeof DEFAULT_TOPICS;
export type Topics = Record<TopicId, string>;
