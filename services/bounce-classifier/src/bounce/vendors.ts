import { addressOf } from './dsn.ts';
import type { MimePart } from './mime.ts';
import type { BounceRecipient } from './report.ts';

/**
 * Vendor reports with a structure of their own that is not RFC 3464: Amazon SES's JSON
 * notifications (delivered by SNS as mail: `{"notificationType":"Bounce","bounce":{...}}`).
 */
export interface VendorReport {
  format: string;
  kind: 'dsn' | 'feedback';
  recipients: BounceRecipient[];
  feedbackType?: string;
}

export function vendorRecipients(root: MimePart, parts: MimePart[]): VendorReport | undefined {
  void root;
  for (const p of parts) {
    if (p.parts.length || !/\\?"(?:notificationType|eventType)\\?"\s*:/.test(p.text)) continue;
    let json = extractJson(p.text);
    // SNS delivers the SES notification as a string inside its own envelope.
    if (json && typeof json.Message === 'string') {
      try {
        json = JSON.parse(json.Message) as Record<string, unknown>;
      } catch {
        json = undefined;
      }
    }
    if (!json) continue;
    const ses = sesReport(json);
    if (ses) return ses;
  }
  return undefined;
}

function extractJson(text: string): Record<string, unknown> | undefined {
  const start = text.indexOf('{');
  if (start < 0) return undefined;
  // SNS mails wrap long lines (`!\n ` or `\n `, RFC 5322 line-length cut); undo it before parsing.
  const body = text.slice(start).replace(/!?\r?\n /g, '');
  for (let end = body.lastIndexOf('}'); end > 0; end = body.lastIndexOf('}', end - 1)) {
    try {
      return JSON.parse(body.slice(0, end + 1)) as Record<string, unknown>;
    } catch {
      /* shorter */
    }
  }
  return undefined;
}

interface SesBounced {
  emailAddress?: string;
  action?: string;
  status?: string;
  diagnosticCode?: string;
}

function sesReport(json: Record<string, unknown>): VendorReport | undefined {
  const type = String(json.notificationType ?? json.eventType ?? '');
  if (type === 'Complaint') {
    const c = json.complaint as { complainedRecipients?: { emailAddress?: string }[]; complaintFeedbackType?: string } | undefined;
    const recipients = (c?.complainedRecipients ?? []).filter((r) => r.emailAddress).map((r) => ({ recipient: addressOf(r.emailAddress!), action: 'delivered' as const, diagnostic: `Amazon SES complaint${c?.complaintFeedbackType ? ` (${c.complaintFeedbackType})` : ''}` }));
    return recipients.length ? { format: 'amazonses-json', kind: 'feedback', recipients, feedbackType: c?.complaintFeedbackType ?? 'abuse' } : undefined;
  }
  const recipients = sesRecipients(json, type);
  return recipients ? { format: 'amazonses-json', kind: 'dsn', recipients } : undefined;
}

function sesRecipients(json: Record<string, unknown>, type: string): BounceRecipient[] | undefined {
  if (type === 'Bounce') {
    const b = json.bounce as { bounceType?: string; bounceSubType?: string; bouncedRecipients?: SesBounced[]; reportingMTA?: string } | undefined;
    if (!b?.bouncedRecipients?.length) return undefined;
    return b.bouncedRecipients
      .filter((r) => r.emailAddress)
      .map((r) => {
        const out: BounceRecipient = {
          recipient: addressOf(r.emailAddress!),
          action: b.bounceType === 'Transient' ? 'delayed' : 'failed',
          diagnostic: (r.diagnosticCode ?? '').replace(/^smtp\s*;\s*/i, '') || `Amazon SES ${b.bounceType ?? ''} ${b.bounceSubType ?? ''}`.trim(),
        };
        if (r.status) out.status = r.status;
        if (!r.diagnosticCode && b.bounceSubType) out.context = `Amazon SES ${b.bounceType ?? ''} bounce: ${b.bounceSubType}`;
        return out;
      });
  }
  if (type === 'Delivery') {
    const d = json.delivery as { recipients?: string[]; smtpResponse?: string } | undefined;
    return (d?.recipients ?? []).map((r) => ({ recipient: addressOf(r), action: 'delivered' as const, diagnostic: d?.smtpResponse ?? '' }));
  }
  return undefined;
}
