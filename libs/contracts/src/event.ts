import { Type, type Static } from '@sinclair/typebox';
import { codec } from './codec.ts';
import { EventField, FailureSchema } from './failure-schema.ts';
import { SmtpReplySchema, TlsInfoSchema } from './smtp.ts';

/**
 * `mta.events` v1 (ingest, bounce-classifier → feedback), key = messageId: qualified facts about a
 * message. Feedback folds them into Campaign's status.
 */
export const MtaEventSchema = Type.Object(
  {
    v: Type.Literal(1),
    messageId: Type.String({ minLength: 1 }),
    deliveryId: Type.String(),
    tenant: Type.Optional(Type.String()),
    recipient: Type.String(),
    event: EventField,
    attempt: Type.Integer({ minimum: 0 }),
    timestamp: Type.String(),
    failure: Type.Optional(FailureSchema),
    smtp: Type.Optional(SmtpReplySchema),
    validUntil: Type.Optional(Type.String()),
    /** TLS of the session that delivered the message (delivered events). */
    tls: Type.Optional(TlsInfoSchema),
    /** Soft bounces: when the next attempt is scheduled (ISO 8601). */
    nextAttemptAt: Type.Optional(Type.String()),
    /** Set by the classifier: whether the sender was refused (IP, reputation, rate): a shaping signal. */
    senderSignal: Type.Optional(Type.Boolean()),
    /** Complaints: the sending IP the feedback report names (ARF `Source-IP`), so the throttle can charge the (IP, site) lane. */
    sourceIp: Type.Optional(Type.String()),
  },
  { additionalProperties: false, $id: 'mta.events/v1' },
);
export type MtaEvent = Static<typeof MtaEventSchema>;
export const MtaEventCodec = codec(MtaEventSchema);
