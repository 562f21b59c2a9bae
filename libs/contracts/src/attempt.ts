import { Type, type Static } from '@sinclair/typebox';
import { codec } from './codec.ts';
import { SmtpReplySchema, TlsInfoSchema } from './smtp.ts';
import { DeliverySchema } from './message.ts';

/**
 * `mta.attempts` v1 (sender → bounce-classifier), key = messageId: the raw outcome of one
 * delivery attempt, unqualified. Errors keep nodemailer's shape (`code`, `responseCode`,
 * `response`, `command`).
 */
export const AttemptSchema = Type.Object(
  {
    v: Type.Literal(1),
    messageId: Type.String({ minLength: 1 }),
    deliveryId: Type.String({ minLength: 1 }),
    tenant: Type.Optional(Type.String()),
    recipient: Type.String(),
    recipientDomain: Type.String(),
    attempt: Type.Integer({ minimum: 1 }),
    acceptedAt: Type.String(),
    validUntil: Type.String(),
    startedAt: Type.String(),
    finishedAt: Type.String(),
    outcome: Type.Union([Type.Literal('delivered'), Type.Literal('failed')]),
    smtp: Type.Optional(SmtpReplySchema),
    error: Type.Optional(
      Type.Object({
        code: Type.String({ description: "nodemailer's error code, e.g. EENVELOPE, ECONNECTION, ETIMEDOUT, EDNS." }),
        message: Type.String(),
        responseCode: Type.Optional(Type.Integer()),
        response: Type.Optional(Type.String()),
        command: Type.Optional(Type.String()),
      }),
    ),
    route: Type.Optional(
      Type.Object({
        site: Type.String({ description: 'Sorted MX host names joined by commas, or the static route.' }),
        host: Type.String(),
        port: Type.Integer(),
        via: Type.Union([Type.Literal('mx'), Type.Literal('route'), Type.Literal('implicit-mx')]),
        sourceIp: Type.Optional(Type.String({ description: 'Local address the connection came from (IP pools).' })),
        ipPool: Type.Optional(Type.String({ description: 'IP pool the source address was taken from.' })),
      }),
    ),
    tls: Type.Optional(TlsInfoSchema),
    delivery: Type.Optional(
      Type.Object(DeliverySchema.properties, {
        additionalProperties: false,
        description: 'The delivery record this attempt was for, carried on failed attempts only so the classifier can schedule a retry without a database.',
      }),
    ),
  },
  { additionalProperties: false, $id: 'mta.attempts/v1' },
);
export type Attempt = Static<typeof AttemptSchema>;
export const AttemptCodec = codec(AttemptSchema, { longText: (a) => a.delivery !== undefined }); // failed attempts carry the delivery
