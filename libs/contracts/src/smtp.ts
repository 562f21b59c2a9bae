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

/** TLS of the SMTP session that carried an attempt (absent = plain text). */
export const TlsInfoSchema = Type.Object({
  protocol: Type.String({ description: "Negotiated protocol, e.g. 'TLSv1.3'." }),
  cipher: Type.String({ description: "Negotiated cipher suite, e.g. 'TLS_AES_256_GCM_SHA384'." }),
  policy: Type.Optional(Type.String({ description: 'Policy that applied: opportunistic, required, mta-sts, disabled.' })),
});
export type TlsInfo = Static<typeof TlsInfoSchema>;
