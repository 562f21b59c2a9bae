import { failure, type Attempt, type BounceClass, type Failure, type FailureReasonCode, type FailureType, type MtaEvent, type SmtpReply } from '@mta/contracts';
import type { Category } from './categories.ts';
import { normalizeReply } from './normalize.ts';
import { matchRule, shippedRules, type Rule } from './rules.ts';

/** What is known about one failed exchange; nodemailer's error shape plus the SMTP reply. */
export interface ReplyInput {
  /** Basic reply code (nodemailer `responseCode`). */
  code?: number | undefined;
  /** RFC 3463 enhanced status, e.g. `5.1.1`. */
  enhancedCode?: string | undefined;
  /** The full reply text (nodemailer `response`), possibly multi-line. */
  response?: string | undefined;
  /** SMTP command or phase the reply answered (CONN, EHLO, MAIL FROM, RCPT TO, DATA...). */
  command?: string | undefined;
  /** nodemailer error code (ECONNECTION, ETIMEDOUT, EENVELOPE, EDNS...). */
  errorCode?: string | undefined;
  /**
   * Permanence when the reply carries neither a code nor an enhanced status (an asynchronous
   * bounce that only explains in prose: its `Action: failed` says the MTA gave up).
   */
  permanent?: boolean | undefined;
  /**
   * The reply is quoted second-hand by a bounce report (a relay's DSN or notice carrying the remote
   * server's reply code), not heard by us in our own session. Its phase is then known only if the
   * report says so; see `unconfirmed`.
   */
  quoted?: boolean | undefined;
}

export interface Classification {
  failure: Failure;
  /** From the reply code: 5xx (or a 5.x.x status with no code) is permanent; 4xx, transport errors and unknown are not. */
  permanent: boolean;
  /** The reply is about the sender (IP, reputation, auth, rate, spam, policy): a traffic-shaping signal. */
  senderSignal: boolean;
  /** Line in rules.txt of the rule that decided, when one did. */
  ruleLine?: number;
}

interface Outcome {
  category: Category;
  bounceClass: BounceClass;
  reasonCode: FailureReasonCode;
}

/**
 * Transport failures carry no SMTP reply: nothing was said about the recipient, so they are always
 * transient (BRIEF §4). Keyed by nodemailer's / Node's error code.
 */
export const TRANSPORT_ERRORS: Readonly<Record<string, Outcome>> = {
  ECONNECTION: { category: 'no-answer-from-host', bounceClass: 70, reasonCode: 3 },
  ETIMEDOUT: { category: 'no-answer-from-host', bounceClass: 70, reasonCode: 3 },
  ESOCKET: { category: 'no-answer-from-host', bounceClass: 70, reasonCode: 3 },
  ECONNREFUSED: { category: 'no-answer-from-host', bounceClass: 70, reasonCode: 3 },
  ECONNRESET: { category: 'no-answer-from-host', bounceClass: 70, reasonCode: 3 },
  EHOSTUNREACH: { category: 'no-answer-from-host', bounceClass: 70, reasonCode: 3 },
  ENETUNREACH: { category: 'no-answer-from-host', bounceClass: 70, reasonCode: 3 },
  EPIPE: { category: 'no-answer-from-host', bounceClass: 70, reasonCode: 3 },
  EDNS: { category: 'dns-failure', bounceClass: 21, reasonCode: 2 },
  ENOTFOUND: { category: 'dns-failure', bounceClass: 21, reasonCode: 2 },
  EAI_AGAIN: { category: 'dns-failure', bounceClass: 21, reasonCode: 2 },
  ETLS: { category: 'tls-failure', bounceClass: 40, reasonCode: 20 },
};

/**
 * Reply matched by no rule. Campaign files what it cannot categorise as Soft "Not defined"
 * (Experience League: Soft = "temporary, or one that could not be categorized"); quarantining an
 * address on a reply nobody understood would be the costly mistake, so unknown is never Hard.
 */
const UNCLASSIFIED_PERMANENT: Outcome = { category: 'undetermined', bounceClass: 40, reasonCode: 0 };
const UNCLASSIFIED_TRANSIENT: Outcome = { category: 'undetermined', bounceClass: 20, reasonCode: 3 };
const UNCLASSIFIED_NO_CODE: Outcome = { category: 'undetermined', bounceClass: 1, reasonCode: 0 };

/** Longest `failure.message` kept; the full reply stays in `smtp.response`. */
const MAX_MESSAGE_CHARS = 1000;

/**
 * Qualifies one failed exchange. Pure: same input and rules, same answer.
 *
 * - permanent/transient comes from the reply code (5xx / 4xx), or a 5.x.x status when there is no
 *   code; transport errors without a reply code are always transient;
 * - the first matching rule gives category, bounce class, reason and whether it is about the sender;
 * - type: `soft` for every transient failure, every sender-related rule, and every reply not
 *   given to RCPT TO (see `canBeHard`); otherwise the rule's `if-permanent` type (hard for
 *   bad-mailbox, NXDOMAIN, null MX, a disabled account). `ignored` rules (auto-replies) stay ignored.
 */
export function classifyReply(input: ReplyInput, rules: readonly Rule[]): Classification {
  const reply = normalizeReply(input);
  const transport = input.errorCode !== undefined ? TRANSPORT_ERRORS[input.errorCode] : undefined;
  if (transport && reply.code === undefined) {
    const detail = reply.line || 'no reply';
    return {
      failure: make('soft', transport, `${input.errorCode}: ${detail}`),
      permanent: false,
      senderSignal: false,
    };
  }

  const permanent = reply.code === undefined && reply.enhancedCode === undefined && input.permanent !== undefined ? input.permanent : isPermanent(reply.code, reply.enhancedCode);
  const rule = matchRule(rules, reply.line);
  const message = reply.line || input.errorCode || 'no reply';
  if (!rule) {
    const outcome = reply.code === undefined && reply.enhancedCode === undefined && input.permanent === undefined
      ? UNCLASSIFIED_NO_CODE
      : permanent ? UNCLASSIFIED_PERMANENT : UNCLASSIFIED_TRANSIENT;
    return { failure: make('soft', outcome, message), permanent, senderSignal: false };
  }
  const recipientPhase = canBeHard(input.command, reply.text);
  // A permanent refusal before the recipient was named (connection, HELO/EHLO, MAIL FROM) cannot be
  // about the recipient, whatever its words: "does not exist" at MAIL FROM is our envelope sender,
  // "invalid domain name" at HELO is our host name. About the sender: Refused, Mail Block, Soft.
  if (permanent && !rule.senderSignal && BEFORE_RECIPIENT_CATEGORIES.has(rule.category) && beforeRecipient(input.command, reply.text)) {
    const phase = phaseOf(input.command, reply.text);
    const category: Category = phase.startsWith('MAIL') ? 'sender-rejected' : 'policy-related';
    return { failure: make('soft', { category, bounceClass: 50, reasonCode: 20 }, message), permanent, senderSignal: true, ruleLine: rule.line };
  }
  let type = failureType(rule, permanent, recipientPhase);
  if (type === 'hard' && unconfirmed(rule, input, reply.enhancedCode, reply.text)) type = 'soft';
  // A permanent "no such mailbox" outside RCPT TO is not about the mailbox (after DATA a filter is
  // talking, sisimai's `filtered`; at MAIL FROM our sender is refused): Refused, Mail Block, Soft.
  const outcome: Outcome = rule.whenPermanent === 'hard' && permanent && !rule.senderSignal && !recipientPhase ? { ...rule, reasonCode: 20, bounceClass: 50 } : rule;
  return { failure: make(type, outcome, message), permanent, senderSignal: rule.senderSignal, ruleLine: rule.line };
}

/**
 * A `hard-if-rcpt` rule (the generic "user unknown" / "no such user" texts) is Hard only on
 * confirmed evidence. A reply quoted by a bounce report with no phase (neither the report nor the
 * text says it answered RCPT TO) and no addressing status (X.1.1 ...) is second-hand and of unknown phase: a relay,
 * a filtering gateway (McAfee, MXLogic, SurfControl ...) or a refusal after DATA may stand behind
 * it, and sisimai labels exactly these `filtered`. It stays "User unknown" but Soft: Campaign
 * retries and quarantines the address after repeated errors, instead of at once on weak evidence.
 * Not affected: our own SMTP sessions (the phase is known), reports that quote no reply at all
 * (the reporting system's own verdict: Exchange, Domino, a local delivery agent), provider rules.
 */
function unconfirmed(rule: Rule, input: ReplyInput, enhancedCode: string | undefined, replyText: string): boolean {
  if (!rule.needsRcpt || !input.quoted) return false;
  // An addressing status (X.1.1 bad mailbox, X.1.10, Microsoft's X.1.351 ...; not the vague X.1.0) names the address.
  if (enhancedCode !== undefined && /^[45]\.1\.[1-9]\d*$/.test(enhancedCode)) return false;
  return phaseOf(input.command, replyText) === '';
}

/**
 * Recipient-side categories whose words, heard before RCPT TO, are really about us (the addressing
 * and "gave up" ones; a full disk, a size limit or a broken remote system stay what they are).
 */
const BEFORE_RECIPIENT_CATEGORIES: ReadonlySet<Category> = new Set<Category>(['bad-mailbox', 'bad-domain', 'inactive-mailbox', 'message-expired', 'undetermined']);

/** The SMTP phase a reply answered: the command given, else a DSN's `(in reply to ...)` note. */
function phaseOf(command: string | undefined, replyText: string): string {
  return (command ?? IN_REPLY_TO.exec(replyText)?.[1] ?? '').trim().toUpperCase();
}

/** Whether the reply answered a command sent before any recipient was named. */
export function beforeRecipient(command: string | undefined, replyText = ''): boolean {
  const phase = phaseOf(command, replyText);
  return /^(?:CONN|EHLO|HELO|LHLO|MAIL)/.test(phase);
}

function make(type: FailureType, o: Outcome, message: string): Failure {
  return failure(type, o.reasonCode, o.bounceClass, o.category, message.slice(0, MAX_MESSAGE_CHARS));
}

function isPermanent(code: number | undefined, enhancedCode: string | undefined): boolean {
  if (code !== undefined) return code >= 500 && code <= 599;
  return enhancedCode?.startsWith('5.') ?? false;
}

function failureType(rule: Rule, permanent: boolean, recipientPhase: boolean): FailureType {
  switch (rule.whenPermanent) {
    case 'ignored':
      return 'ignored';
    case 'soft':
      return 'soft';
    case 'hard':
      return permanent && !rule.senderSignal && recipientPhase ? 'hard' : 'soft';
    default: {
      const unhandled: never = rule.whenPermanent;
      throw new Error(`unhandled failure type ${String(unhandled)}`);
    }
  }
}

/**
 * Whether a permanent recipient reply may make a Hard failure, from the SMTP phase it answered:
 * only RCPT TO (the recipient is being judged) or an unknown phase (a DSN, an API). Replies to
 * CONN/EHLO/HELO/STARTTLS/AUTH/MAIL FROM come before the recipient is named. After DATA the
 * recipient was already accepted at RCPT TO, so a "user unknown" there is a content filter in
 * disguise (sisimai files such replies as `filtered`): Soft. When no command is given, a DSN's
 * `(in reply to end of DATA command)` note stands in for it.
 */
export function canBeHard(command: string | undefined, replyText = ''): boolean {
  const phase = phaseOf(command, replyText);
  return phase === '' || phase.startsWith('RCPT');
}
const IN_REPLY_TO = /\(?in reply to (RCPT TO|MAIL FROM|end of DATA|DATA|HELO|EHLO|LHLO|STARTTLS|AUTH|BDAT)\b/i;

/**
 * Turns the raw outcome of one delivery attempt into the event feedback folds into Campaign's
 * status. `delivered` → `delivered`; a failure whose type is `hard` → `hard_bounce`; every other
 * failure (soft, ignored; including permanent 5xx replies about the sender, e.g. `550 5.7.1 ... IP
 * ... block list`) → `soft_bounce`, so only a Hard failure ever moves a message to Failed at once.
 * `now` stands in for `finishedAt` only when that is not a valid date.
 */
export function classifyAttempt(attempt: Attempt, now: Date, rules: readonly Rule[] = shippedRules()): MtaEvent {
  const smtp = smtpOf(attempt);
  const event: MtaEvent = {
    v: 1,
    messageId: attempt.messageId,
    deliveryId: attempt.deliveryId,
    recipient: attempt.recipient,
    event: 'delivered',
    attempt: attempt.attempt,
    timestamp: Number.isNaN(Date.parse(attempt.finishedAt)) ? now.toISOString() : attempt.finishedAt,
    validUntil: attempt.validUntil,
  };
  if (attempt.tenant !== undefined) event.tenant = attempt.tenant;
  if (smtp) event.smtp = smtp;
  if (attempt.outcome === 'delivered') {
    // The TLS of the session that delivered the message travels to Campaign's side with it.
    if (attempt.tls) event.tls = attempt.tls;
    return event;
  }

  const { failure: f, senderSignal } = classifyReply(
    {
      code: attempt.smtp?.code ?? attempt.error?.responseCode,
      enhancedCode: attempt.smtp?.enhancedCode,
      response: attempt.smtp?.response ?? attempt.error?.response ?? attempt.error?.message,
      command: attempt.smtp?.command ?? attempt.error?.command,
      errorCode: attempt.error?.code,
    },
    rules,
  );
  event.event = f.type === 'hard' ? 'hard_bounce' : 'soft_bounce';
  event.failure = f;
  event.senderSignal = senderSignal;
  return event;
}

/** The SMTP reply as data: the attempt's own, or rebuilt from nodemailer's error fields. */
function smtpOf(attempt: Attempt): SmtpReply | undefined {
  if (attempt.smtp) return attempt.smtp;
  const e = attempt.error;
  if (!e || (e.responseCode === undefined && e.response === undefined)) return undefined;
  const reply = normalizeReply({ code: e.responseCode, response: e.response });
  const smtp: SmtpReply = {};
  if (reply.code !== undefined) smtp.code = reply.code;
  if (reply.enhancedCode !== undefined) smtp.enhancedCode = reply.enhancedCode;
  if (e.response !== undefined) smtp.response = e.response;
  if (e.command !== undefined) smtp.command = e.command;
  return smtp;
}
