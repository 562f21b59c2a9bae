import { Type, type Static } from '@sinclair/typebox';
import { codec } from './codec.ts';
import { QueuedMessageSchema } from './message.ts';

/** Kafka header on a retry record: not before this time (ms since epoch) may the tier release it. */
export const RETRY_NOT_BEFORE_HEADER = 'mta-not-before';

/**
 * `mta.retry.*` v1 (bounce-classifier → its own delay-topic consumer), key = messageId: a message
 * waiting for its next attempt. `message` is what goes back on `mta.queue` once due (its
 * `attempt` is already the next attempt's number; `lastFailure` the soft bounce that caused it).
 */
export const RetryRecordSchema = Type.Object(
  {
    v: Type.Literal(1),
    message: QueuedMessageSchema,
    /** When the next attempt is due (ISO 8601); never after `message.validUntil`. */
    dueAt: Type.String(),
    /** When the retry was scheduled (ISO 8601). */
    scheduledAt: Type.String(),
  },
  { additionalProperties: false, $id: 'mta.retry/v1' },
);
export type RetryRecord = Static<typeof RetryRecordSchema>;
export const RetryRecordCodec = codec(RetryRecordSchema);
