import { failure, type Failure } from '@mta/contracts';
import { classifyReply, type Classification } from '../classify.ts';
import type { Rule } from '../rules.ts';
import { findEnhanced, findReplyCode } from './parse.ts';
import type { BounceRecipient, BounceReport } from './report.ts';

/**
 * What a report means for one recipient:
 * - `bounce`: a final failure (`Action: failed`), qualified by the same rules as a synchronous reply;
 * - `complaint`: a feedback-loop report about abuse/fraud (Campaign: Denylisted address);
 * - `ignored`: an auto-reply, a delay warning, a success notice, a non-abuse feedback report:
 *   no status change.
 */
export type RecipientOutcome = 'bounce' | 'complaint' | 'ignored';

export interface QualifiedRecipient {
  recipient: string;
  outcome: RecipientOutcome;
  failure: Failure;
  permanent: boolean;
  senderSignal: boolean;
  status?: string;
  replyCode?: number;
  command?: string;
  remoteMta?: string;
  action: BounceRecipient['action'];
  ruleLine?: number;
  /** Why the outcome is `ignored`, when it is. */
  note?: string;
}

/** Feedback types that are complaints about the message (RFC 5965 §7.3; `fraud` and `abuse` are what providers send for "this is spam"). */
const COMPLAINT_TYPES = new Set(['abuse', 'fraud']);

export function qualifyReport(report: BounceReport, rules: readonly Rule[]): QualifiedRecipient[] {
  switch (report.kind) {
    case 'feedback': {
      const type = report.feedback?.type ?? 'other';
      const complaint = COMPLAINT_TYPES.has(type);
      return report.recipients.map((r) => ({
        recipient: r.recipient,
        outcome: complaint ? 'complaint' : 'ignored',
        failure: complaint
          ? failure('hard', 8, 90, 'complaint', `feedback-loop report (${type})${report.feedback?.userAgent ? ` from ${report.feedback.userAgent}` : ''}`)
          : failure('ignored', 25, 1, 'undetermined', `feedback-loop report (${type}) is not a complaint`),
        permanent: complaint,
        senderSignal: complaint,
        action: r.action,
        ...(complaint ? {} : { note: `feedback type ${type}` }),
      }));
    }
    case 'auto-reply':
      return report.recipients.map((r) => ({
        recipient: r.recipient,
        outcome: 'ignored',
        failure: failure('ignored', 25, 60, 'auto-reply', `auto-reply (${report.note ?? 'RFC 3834'})`),
        permanent: false,
        senderSignal: false,
        action: r.action,
        note: report.note ?? 'auto-reply',
      }));
    case 'dsn':
    case 'text':
      return report.recipients.map((r) => qualifyRecipient(r, rules));
    case 'not-bounce':
      return [];
    default: {
      const never: never = report.kind;
      throw new Error(`unhandled report kind ${String(never)}`);
    }
  }
}

/** One recipient of a DSN or text bounce, through the reply rules. */
export function qualifyRecipient(r: BounceRecipient, rules: readonly Rule[]): QualifiedRecipient {
  const final = r.action === 'failed';
  // A delay warning is a soft bounce: Campaign keeps the status and only updates the reason.
  const failing = final || r.action === 'delayed';
  let c = classifyDiagnostic(r, r.diagnostic, rules, final);
  if (c.failure.category === 'undetermined') {
    const second = classifyDiagnostic(r, `${r.diagnostic}\n${r.context ?? ''}`, rules, final, true);
    if (second.failure.category !== 'undetermined') c = second;
  }
  if (!final && c.failure.type === 'hard') c = { ...c, failure: { ...c.failure, type: 'soft' } };
  const out: QualifiedRecipient = {
    recipient: r.recipient,
    outcome: failing ? 'bounce' : 'ignored',
    failure: c.failure,
    permanent: c.permanent,
    senderSignal: c.senderSignal,
    action: r.action,
  };
  if (r.status) out.status = r.status;
  if (r.replyCode !== undefined) out.replyCode = r.replyCode;
  if (r.command) out.command = r.command;
  if (r.remoteMta) out.remoteMta = r.remoteMta;
  if (c.ruleLine !== undefined) out.ruleLine = c.ruleLine;
  if (!final) out.note = failing ? 'delay warning: soft, the sender keeps trying' : `action ${r.action}: not a failure`;
  return out;
}

/**
 * The reply is read from its code on (`... said: 550 5.1.1 <a@b>... User unknown` → `550 5.1.1 ...`)
 * so that code-anchored rules apply; with `whole`, the text before the code is kept after it.
 */
function classifyDiagnostic(r: BounceRecipient, text: string, rules: readonly Rule[], final: boolean, whole = false): Classification {
  const code = r.replyCode ?? findReplyCode(text);
  let response = text;
  if (code !== undefined) {
    const at = new RegExp(`(?:^|[\\s:;("'\\[])${code}(?=[ -,])`).exec(text);
    if (at) {
      const start = at.index + (at[0].length - String(code).length);
      // The quoted reply is one paragraph: stop at the next blank line (unless classifying the whole text).
      const tail = text.slice(start);
      const reply = whole ? tail : tail.split(/\n[ \t>]*\n/)[0]!;
      response = whole && start > 0 ? `${reply} ${text.slice(0, start)}` : reply;
    }
  }
  response = response.replace(/\s+/g, ' ').trim();
  const textEnhanced = findEnhanced(response.slice(0, 16));
  // An explicit "bad destination mailbox" status names the recipient whatever phase the report
  // says (pipelined RCPT replies are read after DATA; some gateways report the last command sent).
  const command = (textEnhanced ?? r.status)?.slice(1) === '.1.1' ? undefined : r.command;
  return classifyReply(
    {
      code,
      enhancedCode: textEnhanced ? undefined : r.status,
      response,
      command,
      permanent: final,
      // A report quoting a remote server's reply code passes on a second-hand reply.
      quoted: code !== undefined,
    },
    rules,
  );
}
