import { Type, type Static } from '@sinclair/typebox';
import { codec } from './codec.ts';
import { FailureSchema } from './failure-schema.ts';

/** The content of a message: a raw RFC 5322 message, or structured parts composed by the sender. */
export const ContentSchema = Type.Union([
  Type.Object({ kind: Type.Literal('raw'), raw: Type.String() }, { additionalProperties: false }),
  Type.Object(
    {
      kind: Type.Literal('structured'),
      subject: Type.String(),
      text: Type.Optional(Type.String()),
      html: Type.Optional(Type.String()),
      headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    },
    { additionalProperties: false },
  ),
]);
export type Content = Static<typeof ContentSchema>;

/** Per-destination limits the throttle hands to the sender with each released message. */
export const LimitsSchema = Type.Object({
  maxConnections: Type.Integer({ minimum: 1 }),
  messagesPerConnection: Type.Integer({ minimum: 1 }),
});
export type Limits = Static<typeof LimitsSchema>;

const messageFields = {
  v: Type.Literal(1),
  messageId: Type.String({ minLength: 1 }),
  deliveryId: Type.String({ minLength: 1 }),
  tenant: Type.Optional(Type.String()),
  ipPool: Type.Optional(Type.String()),
  from: Type.String({ minLength: 1, description: 'Header From, as Campaign gave it.' }),
  mailFrom: Type.String({ description: 'Envelope sender (bare address).' }),
  to: Type.String({ minLength: 3, description: 'Envelope recipient (bare address).' }),
  recipientDomain: Type.String({ minLength: 1, description: 'Lower-cased domain of `to`; the partition key.' }),
  content: ContentSchema,
  acceptedAt: Type.String({ description: 'When ingest accepted the request (ISO 8601).' }),
  validUntil: Type.String({ description: 'Effective validity end, already capped (ISO 8601).' }),
  attempt: Type.Integer({ minimum: 1, description: 'Number of the delivery attempt this record leads to.' }),
  lastFailure: Type.Optional(
    Type.Object(FailureSchema.properties, { description: 'Retries: the soft bounce of the previous attempt, so whoever expires the message can give its reason.' }),
  ),
};

/** `mta.queue` v1 (ingest → throttle), key = recipient domain. */
export const QueuedMessageSchema = Type.Object(messageFields, { additionalProperties: false, $id: 'mta.queue/v1' });
export type QueuedMessage = Static<typeof QueuedMessageSchema>;
export const QueuedMessageCodec = codec(QueuedMessageSchema, { longText: true });

/** `mta.deliveries` v1 (throttle → sender), key = recipient domain: a message released for delivery. */
export const DeliverySchema = Type.Object(
  {
    ...messageFields,
    releasedAt: Type.String(),
    limits: LimitsSchema,
    sourceIp: Type.Optional(Type.String({ description: "Source address the throttle chose from the request's IP pool (absent: the sender picks)." })),
    tls: Type.Optional(
      Type.Union([Type.Literal('opportunistic'), Type.Literal('required'), Type.Literal('disabled')], {
        description: "TLS policy of the lane's shaping rule; the sender applies it over its default, never weakening MTA-STS enforce or MTA_TLS_POLICY=required.",
      }),
    ),
  },
  { additionalProperties: false, $id: 'mta.deliveries/v1' },
);
export type Delivery = Static<typeof DeliverySchema>;
export const DeliveryCodec = codec(DeliverySchema, { longText: true });
