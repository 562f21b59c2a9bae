import { Type, type Static } from '@sinclair/typebox';
import { codec } from './codec.ts';
import {
  BounceClassField,
  EventField,
  FailureReasonCodeField,
  FailureReasonField,
  FailureTypeField,
  StatusField,
} from './failure-schema.ts';
import { SmtpReplySchema } from './smtp.ts';

/**
 * `mta.status` v1 (MTA → Campaign and analysts), key = messageId. Campaign's delivery-log status
 * of one message after each event (BRIEF §2).
 */
export const StatusRecordSchema = Type.Object(
  {
    v: Type.Literal(1),
    messageId: Type.String({ minLength: 1 }),
    deliveryId: Type.String(),
    tenant: Type.Optional(Type.String()),
    recipient: Type.String(),
    status: StatusField,
    event: EventField,
    failureType: Type.Optional(FailureTypeField),
    failureReason: Type.Optional(FailureReasonField),
    failureReasonCode: Type.Optional(FailureReasonCodeField),
    bounceClass: Type.Optional(BounceClassField),
    category: Type.Optional(Type.String()),
    error: Type.Optional(Type.String({ description: 'Specific explanation: the SMTP reply or the validation error.' })),
    smtp: Type.Optional(SmtpReplySchema),
    attempt: Type.Integer({ minimum: 0 }),
    timestamp: Type.String(),
  },
  { additionalProperties: false, $id: 'mta.status/v1' },
);
export type StatusRecord = Static<typeof StatusRecordSchema>;
export const StatusRecordCodec = codec(StatusRecordSchema);
