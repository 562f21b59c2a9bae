/**
 * Inbound reports built the way real MTAs write them (Postfix DSN, Exim text bounce, qmail,
 * ARF from a mailbox provider, an RFC 3834 vacation reply), with the sender's headers in the
 * returned part so correlation can be tested. Replies quoted are real provider replies.
 */
export interface Returned {
  messageId?: string;
  trace?: string;
  to: string;
}

function returnedHeaders(r: Returned): string {
  return [
    'Return-Path: <b-xyz@bounces.test>',
    'From: Brand <news@brand.example>',
    `To: ${r.to}`,
    'Subject: Spring sale',
    ...(r.messageId ? [`Message-ID: <${r.messageId}>`] : []),
    ...(r.trace ? [`X-MTA-Message-Id: ${r.trace}`] : []),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
  ].join('\r\n');
}

/** Postfix-style multipart/report DSN; one entry per recipient: [address, status, diagnostic, action]. */
export function postfixDsn(recipients: [string, string, string, string?][], r: Returned, to = 'b-xyz@bounces.test'): string {
  const human = recipients.map(([a, , d]) => `<${a}>: host mx.example.net[192.0.2.10] said: ${d} (in reply to RCPT TO command)`).join('\r\n\r\n');
  const blocks = recipients
    .map(([a, s, d, action]) => [`Final-Recipient: rfc822; ${a}`, `Original-Recipient: rfc822;${a}`, `Action: ${action ?? 'failed'}`, `Status: ${s}`, 'Remote-MTA: dns; mx.example.net', `Diagnostic-Code: smtp; ${d}`].join('\r\n'))
    .join('\r\n\r\n');
  return [
    'Return-Path: <>',
    'From: MAILER-DAEMON@mail.example.org (Mail Delivery System)',
    'Subject: Undelivered Mail Returned to Sender',
    `To: ${to}`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status;',
    '\tboundary="B1/mail.example.org"',
    '',
    'This is a MIME-encapsulated message.',
    '',
    '--B1/mail.example.org',
    'Content-Description: Notification',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'This is the mail system at host mail.example.org.',
    '',
    "I'm sorry to have to inform you that your message could not",
    'be delivered to one or more recipients. It\'s attached below.',
    '',
    human,
    '',
    '--B1/mail.example.org',
    'Content-Description: Delivery report',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mail.example.org',
    'Arrival-Date: Fri, 13 Feb 2026 02:47:48 +0000 (UTC)',
    '',
    blocks,
    '',
    '--B1/mail.example.org',
    'Content-Description: Undelivered Message Headers',
    'Content-Type: text/rfc822-headers',
    '',
    returnedHeaders(r),
    '',
    '--B1/mail.example.org--',
    '',
  ].join('\r\n');
}

/** Exim's text bounce (no delivery-status part). */
export function eximBounce(recipient: string, reply: string, r: Returned): string {
  return [
    'From: Mail Delivery System <Mailer-Daemon@mx.example.org>',
    'To: b-xyz@bounces.test',
    'Subject: Mail delivery failed: returning message to sender',
    `X-Failed-Recipients: ${recipient}`,
    'Auto-Submitted: auto-replied',
    '',
    'This message was created automatically by mail delivery software.',
    '',
    'A message that you sent could not be delivered to one or more of its',
    'recipients. This is a permanent error. The following address(es) failed:',
    '',
    `  ${recipient}`,
    `    SMTP error from remote mail server after RCPT TO:<${recipient}>:`,
    `    host mx.example.net [192.0.2.20]: ${reply}`,
    '',
    '------ This is a copy of the message, including all the headers. ------',
    '',
    returnedHeaders(r),
    '',
    'Hello',
    '',
  ].join('\r\n');
}

/** qmail-send's text bounce. */
export function qmailBounce(recipient: string, text: string, r: Returned): string {
  return [
    'From: MAILER-DAEMON@mx.example.org',
    'To: b-xyz@bounces.test',
    'Subject: failure notice',
    '',
    'Hi. This is the qmail-send program at mx.example.org.',
    "I'm afraid I wasn't able to deliver your message to the following addresses.",
    "This is a permanent error; I've given up. Sorry it didn't work out.",
    '',
    `<${recipient}>:`,
    text,
    '',
    '--- Below this line is a copy of the message.',
    '',
    returnedHeaders(r),
    '',
    'Hello',
    '',
  ].join('\r\n');
}

/** RFC 5965 feedback report (abuse), as Yahoo/AOL/Microsoft-style FBLs send them. */
export function arfReport(recipient: string, r: Returned, type = 'abuse'): string {
  return [
    'From: <staff@fbl.example.com>',
    'To: fbl@bounces.test',
    'Subject: FW: Spring sale',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=feedback-report; boundary="fbl"',
    '',
    '--fbl',
    'Content-Type: text/plain; charset="US-ASCII"',
    '',
    'This is an email abuse report for an email message received from IP 192.0.2.1.',
    '',
    '--fbl',
    'Content-Type: message/feedback-report',
    '',
    `Feedback-Type: ${type}`,
    'User-Agent: ExampleFBL/1.0',
    'Version: 1',
    'Source-IP: 192.0.2.1',
    `Original-Rcpt-To: ${recipient}`,
    '',
    '--fbl',
    'Content-Type: message/rfc822',
    '',
    returnedHeaders(r),
    '',
    'Hello',
    '',
    '--fbl--',
    '',
  ].join('\r\n');
}

/** An out-of-office reply (RFC 3834 Auto-Submitted). */
export function vacationReply(from: string): string {
  return [
    `From: ${from}`,
    'To: b-xyz@bounces.test',
    'Subject: Out of office: Spring sale',
    'Auto-Submitted: auto-replied',
    '',
    'I am out of the office until Monday and will reply when I am back.',
    '',
  ].join('\r\n');
}

/** A normal message (not a report). */
export function normalMail(): string {
  return ['From: Someone <someone@example.net>', 'To: b-xyz@bounces.test', 'Subject: Question about my order', '', 'Hi, where is my parcel?', ''].join('\r\n');
}
