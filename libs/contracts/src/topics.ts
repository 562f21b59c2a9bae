/** Default topic names (deploy/topics.json holds partitions and configs). Every service can override them. */
export const DEFAULT_TOPICS = {
  requests: 'mta.requests',
  queue: 'mta.queue',
  deliveries: 'mta.deliveries',
  attempts: 'mta.attempts',
  events: 'mta.events',
  status: 'mta.status',
  deadLetter: 'mta.dead-letter',
  shaping: 'mta.shaping',
} as const;
export type TopicId = keyof typeof DEFAULT_TOPICS;
export type Topics = Record<TopicId, string>;
