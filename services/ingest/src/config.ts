import { commonKeys, int, num } from '@mta/config';

export const ingestKeys = {
  ...commonKeys('ingest', 8081),
  maxMessageBytes: int('MTA_MAX_MESSAGE_BYTES', 'Largest request accepted, in bytes (the topics allow 16 MiB).', 10 * 1024 * 1024, 1024, 16 * 1024 * 1024 - 4096),
  validityCapHours: num('MTA_VALIDITY_CAP_HOURS', 'Longest validity period honoured, counted from arrival (3.5 days = 84 h).', 84, 0.001, 84),
  dedupeWindowEntries: int('MTA_DEDUPE_WINDOW_ENTRIES', 'How many recent messageIds each instance remembers to drop repeated requests.', 1_000_000, 0),
  dedupeWindowHours: num('MTA_DEDUPE_WINDOW_HOURS', 'How long a messageId is remembered to drop repeated requests.', 24, 0),
  dedupeRebuildRecords: int('MTA_DEDUPE_REBUILD_RECORDS', 'At start-up, how many of the latest records of the events topic are read back to refill the dedupe window (0 = start empty).', 2_000_000, 0),
  maxInFlight: int('MTA_MAX_IN_FLIGHT', 'Requests handled at once before consumption waits.', 5000, 1),
};
