import { Type, type Static } from '@sinclair/typebox';
import { codec } from './codec.ts';

/** Error codes a record can be dead-lettered with. One place, never reused for another meaning. */
export const DEAD_LETTER_CODES = [
  'malformed_json',
  'schema_violation',
  'missing_field',
  'invalid_field',
  'invalid_address',
  'header_injection',
  'oversized',
  'unknown_content_shape',
  'validity_expired',
  'internal_error',
  'bounce_unmatched',
] as const;
export type DeadLetterCode = (typeof DEAD_LETTER_CODES)[number];

/**
 * `mta.dead-letter` v1, key = the source record's key: a record that could not be parsed,
 * validated or processed, with its original bytes and where it came from.
 */
export const DeadLetterSchema = Type.Object(
  {
    v: Type.Literal(1),
    service: Type.String(),
    error: Type.Object({
      code: Type.Union(DEAD_LETTER_CODES.map((c) => Type.Literal(c))),
      message: Type.String(),
      field: Type.Optional(Type.String()),
    }),
    source: Type.Object({
      topic: Type.String(),
      partition: Type.Integer(),
      offset: Type.String(),
      key: Type.Union([Type.String(), Type.Null()]),
      timestamp: Type.String(),
    }),
    messageId: Type.Optional(Type.String()),
    original: Type.String({ description: 'The original value, base64.' }),
    originalText: Type.Optional(Type.String({ description: 'The original value as UTF-8 text when it is valid UTF-8 and under 64 KiB.' })),
    at: Type.String(),
  },
  { additionalProperties: false, $id: 'mta.dead-letter/v1' },
);
export type DeadLetter = Static<typeof DeadLetterSchema>;
export const DeadLetterCodec = codec(DeadLetterSchema);
