import { Type, type Static } from '@sinclair/typebox';

/** What an SMTP exchange said, carried as data so no consumer ever parses an error message. */
export const SmtpReplySchema = Type.Object({
  code: Type.Optional(Type.Integer({ description: 'Basic reply code, e.g. 550.' })),
  enhancedCode: Type.Optional(Type.String({ description: 'RFC 3463 enhanced status, e.g. 5.1.1.' })),
  response: Type.Optional(Type.String({ description: 'The full reply text.' })),
  mx: Type.Optional(Type.String({ description: 'Host that answered (host:port).' })),
  command: Type.Optional(Type.String({ description: 'SMTP command or phase the reply answered (CONN, EHLO, MAIL FROM, RCPT TO, DATA...).' })),
});
export type SmtpReply = Static<typeof SmtpReplySchema>;
