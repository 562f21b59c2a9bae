import { Type, type Static } from '@sinclair/typebox';
import { codec } from './codec.ts';

/**
 * `mta.requests` v1 (Campaign → MTA), key = messageId. One recipient per record.
 * Field-level rules the schema cannot express (header injection, address syntax, content shape,
 * size) are checked by ingest's `validateRequest`, which gives each its own error code.
 */
export const SendRequestSchema = Type.Object(
  {
    v: Type.Optional(Type.Literal(1, { description: 'Schema version; 1 when absent.' })),
    messageId: Type.String({ minLength: 1, maxLength: 255, description: 'Unique per recipient; the idempotency key.' }),
    deliveryId: Type.String({ minLength: 1, maxLength: 255, description: "Campaign's delivery (the mailing)." }),
    from: Type.String({ minLength: 1, maxLength: 998, description: 'Sender address, optionally with a display name: `Name <a@b>`.' }),
    to: Type.String({ minLength: 1, maxLength: 998, description: 'The one recipient address.' }),
    raw: Type.Optional(Type.String({ minLength: 1, description: 'A complete RFC 5322 message.' })),
    subject: Type.Optional(Type.String()),
    text: Type.Optional(Type.String()),
    html: Type.Optional(Type.String()),
    headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Extra headers for structured content.' })),
    validUntil: Type.Optional(Type.String({ description: 'ISO 8601; capped at 3.5 days after arrival.' })),
    ipPool: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    tenant: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  },
  { additionalProperties: true, $id: 'mta.requests/v1' },
);
export type SendRequest = Static<typeof SendRequestSchema>;
export const SendRequestCodec = codec(SendRequestSchema);
