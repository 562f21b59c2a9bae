import { commonKeys, int } from '@mta/config';

export const feedbackKeys = {
  ...commonKeys('feedback', 8085),
  stateEntries: int(
    'MTA_FEEDBACK_STATE_ENTRIES',
    'Messages whose state feedback remembers (one Map entry each: the messageId and one small integer, ~110 bytes with a 36-character id). Size it above the messages that can still receive events (in flight plus the async-bounce window).',
    2_000_000,
    1000,
  ),
  maxDeliveries: int('MTA_FEEDBACK_MAX_DELIVERIES', 'Deliveries whose KPIs are kept in memory and served (least recently updated forgotten first).', 10_000, 1),
  domainsPerDelivery: int('MTA_FEEDBACK_DOMAINS_PER_DELIVERY', 'Recipient domains counted separately per delivery; further domains are summed under "(other)".', 200, 1),
  kpiIntervalMs: int('MTA_FEEDBACK_KPI_INTERVAL_MS', 'At most one KPI snapshot per delivery per this interval on the KPI topic.', 1000, 50),
  maxInFlight: int('MTA_MAX_IN_FLIGHT', 'Events handled at once before consumption waits.', 5000, 1),
};
