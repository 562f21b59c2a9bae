import { commonKeys, int } from '@mta/config';

export const feedbackKeys = {
  ...commonKeys('feedback', 8085),
  stateEntries: int('MTA_FEEDBACK_STATE_ENTRIES', 'Messages whose status feedback remembers (bounded memory; ~200 bytes each).', 2_000_000, 1000),
  maxInFlight: int('MTA_MAX_IN_FLIGHT', 'Events handled at once before consumption waits.', 5000, 1),
};
