/**
 * What a bounce message says, before classification: `parseBounce` turns raw bytes into this,
 * `qualifyReport` classifies each recipient with the same rules as synchronous replies.
 */
export const REPORT_KINDS = ['dsn', 'text', 'feedback', 'auto-reply', 'not-bounce'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

/** RFC 3464 actions; `failed` is the only final failure. */
export type DsnAction = 'failed' | 'delayed' | 'delivered' | 'relayed' | 'expanded';

export interface BounceRecipient {
  /** The recipient the report is about (Final-Recipient, or found in the text). */
  recipient: string;
  /** RFC 3464 Action; text bounces are `failed` unless they say they are a delay warning. */
  action: DsnAction;
  /** RFC 3463 status (the DSN's Status, or the first enhanced code in the text). */
  status?: string;
  /** Basic SMTP reply code found in the diagnostic. */
  replyCode?: number;
  /** The remote server's reply (Diagnostic-Code without its type) or the text explaining the failure. */
  diagnostic: string;
  /** Remote-MTA (or the host named in the text). */
  remoteMta?: string;
  /** SMTP phase the reply answered when the report says (RCPT TO, MAIL FROM, DATA ...). */
  command?: string;
  /** The human-readable explanation around this recipient, when it adds to `diagnostic`. */
  context?: string;
}

export interface OriginalMessage {
  /** Message-ID header of the returned message (angle brackets removed). */
  messageId?: string;
  /** The sender's trace header `X-MTA-Message-Id` (Campaign's messageId). */
  mtaMessageId?: string;
  /** To of the returned message (used when a report names no recipient). */
  to?: string;
}

export interface FeedbackInfo {
  /** RFC 5965 Feedback-Type (abuse, fraud, virus, not-spam, other ...). */
  type: string;
  userAgent?: string;
  sourceIp?: string;
}

export interface BounceReport {
  kind: ReportKind;
  /** Which format was recognised, e.g. `rfc3464`, `qmail`, `exim`, `amazonses-json`, `arf`, `rfc3834`. */
  format: string;
  recipients: BounceRecipient[];
  original: OriginalMessage;
  feedback?: FeedbackInfo;
  /** For `not-bounce` and `auto-reply`: why. */
  note?: string;
  subject?: string;
  from?: string;
}
