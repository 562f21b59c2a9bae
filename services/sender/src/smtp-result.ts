import type { Attempt, SmtpReply } from '@mta/contracts';

/** An error in nodemailer's shape, as the attempt record carries it. */
export type SendError = NonNullable<Attempt['error']>;

/** What nodemailer sets on its errors besides the fields kept in the record. */
interface NodemailerErrorLike {
  code?: unknown;
  message?: unknown;
  responseCode?: unknown;
  response?: unknown;
  command?: unknown;
  /** The system error code behind an ECONNECTION/ESOCKET (ECONNREFUSED, EHOSTUNREACH...). */
  originalCode?: unknown;
  /** CONNECT_TIMEOUT, GREETING_TIMEOUT, UPGRADE_TIMEOUT, SOCKET_TIMEOUT. */
  timeoutType?: unknown;
}

/** nodemailer codes of transport (not reply) failures. */
const TRANSPORT_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'ETLS', 'EDNS']);

const ENHANCED = /^[245]\d\d[ -]([245]\.\d{1,3}\.\d{1,3})(?=\s|$)/;
const BASIC = /^([1-5]\d\d)(?=[ -]|$)/;

/** RFC 3463 enhanced status code at the start of a reply (`550 5.1.1 ...` → `5.1.1`). */
export function parseEnhancedCode(response: string | undefined): string | undefined {
  if (!response) return undefined;
  return ENHANCED.exec(response)?.[1];
}

/** Basic reply code at the start of a reply. */
export function parseReplyCode(response: string | undefined): number | undefined {
  if (!response) return undefined;
  const m = BASIC.exec(response);
  return m ? Number(m[1]) : undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The record-shaped error of whatever nodemailer rejected with. */
export function toSendError(err: unknown): SendError & { originalCode?: string; timeoutType?: string } {
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as NodemailerErrorLike;
  const response = str(e.response);
  const responseCode = typeof e.responseCode === 'number' ? e.responseCode : parseReplyCode(response);
  const out: SendError & { originalCode?: string; timeoutType?: string } = {
    // An error without a code (e.g. "Connection pool was closed" at shutdown) is a connection problem.
    code: str(e.code) ?? 'ECONNECTION',
    message: str(e.message) ?? 'unknown error',
  };
  if (responseCode !== undefined) out.responseCode = responseCode;
  if (response !== undefined) out.response = response;
  // A transport failure without a command (the pool giving up on a host that keeps closing
  // connections) happened while connecting.
  const command = str(e.command) ?? (TRANSPORT_CODES.has(out.code) ? 'CONN' : undefined);
  if (command !== undefined) out.command = command;
  const originalCode = str(e.originalCode);
  if (originalCode !== undefined) out.originalCode = originalCode;
  const timeoutType = str(e.timeoutType);
  if (timeoutType !== undefined) out.timeoutType = timeoutType;
  return out;
}

/** The SMTP reply part of a failed attempt. */
export function failureReply(e: SendError, mx: string | undefined): SmtpReply {
  const reply: SmtpReply = {};
  if (e.responseCode !== undefined) reply.code = e.responseCode;
  const enhanced = parseEnhancedCode(e.response);
  if (enhanced !== undefined) reply.enhancedCode = enhanced;
  if (e.response !== undefined) reply.response = e.response;
  if (mx !== undefined) reply.mx = mx;
  if (e.command !== undefined) reply.command = e.command;
  return reply;
}

/** The SMTP reply part of a delivered attempt, from nodemailer's `info.response` (`250 2.0.0 Ok`). */
export function successReply(response: string | undefined, mx: string): SmtpReply {
  const reply: SmtpReply = { mx, command: 'DATA' };
  const code = parseReplyCode(response);
  if (code !== undefined) reply.code = code;
  const enhanced = parseEnhancedCode(response);
  if (enhanced !== undefined) reply.enhancedCode = enhanced;
  if (response !== undefined) reply.response = response;
  return reply;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENETDOWN', 'EHOSTDOWN']);
const SETUP_TIMEOUTS = new Set(['CONNECT_TIMEOUT', 'GREETING_TIMEOUT']);

export interface TransportVerdict {
  /** Try the next MX host for this message (RFC 5321 §5.1): the host, not the message, failed. */
  failover: boolean;
  /** Remember the host as down for a while: it never got as far as a usable session. */
  remember: boolean;
}

/**
 * What a send error says about the host. Transport failures (connection refused/reset/timed
 * out, TLS failure, a greeting that is not 220, a 421 "closing") move to the next MX; replies
 * to MAIL/RCPT/DATA are about the message and stay as they are. Only failures to set up a
 * session at all are remembered, so one dropped connection in a healthy pool does not stop a
 * host: refused/unreachable, connect or greeting timeout, a refusing greeting, or the pool
 * giving up after the host kept closing fresh connections.
 */
export function judgeTransportError(e: ReturnType<typeof toSendError>): TransportVerdict {
  const greetingRefused = e.code === 'EPROTOCOL' && e.command === 'CONN';
  const failover = TRANSPORT_CODES.has(e.code) || greetingRefused || e.responseCode === 421;
  const remember =
    (e.originalCode !== undefined && UNREACHABLE.has(e.originalCode)) ||
    (e.timeoutType !== undefined && SETUP_TIMEOUTS.has(e.timeoutType)) ||
    greetingRefused ||
    (e.code === 'ECONNECTION' && e.message.startsWith('Reached maximum number of retries'));
  return { failover, remember };
}
