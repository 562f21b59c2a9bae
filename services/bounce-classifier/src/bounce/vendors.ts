import { addressOf } from './dsn.ts';
import type { MimePart } from './mime.ts';
import type { BounceRecipient } from './report.ts';

/**
 * Vendor reports with a structure of their own that is not RFC 3464: Amazon SES's JSON
 * notifications (delivered by SNS as mail: `{"notificationType":"Bounce","bounce":{...}}`).
 */
export function vendorRecipients(root: MimePart, parts: MimePart[]): { format: string; recipients: BounceRecipient[] } | undefined {
  void root;
  for (const p of parts) {
    if (p.parts.length || !/"notificationType"\s*:/.test(p.text)) continue;
    const json = extractJson(p.text);
    if (!json) continue;
    const ses = sesRecipients(json);
    if (ses) return { format: 'amazonses-json', recipients: ses };
  }
  return undefined;
}

function extractJson(text: string): Record<string, unknown> | undefined {
  const start = text.indexOf('{');
  if (start < 0) return undefined;
  // SNS mails wrap long lines with `!\n ` (RFC 5322 line-length cut); undo it before parsing.
  const body = text.slice(start).replace(/!\r?\n /g, '');
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

function sesRecipients(json: Record<string, unknown>): BounceRecipient[] | undefined {
  const type = String(json.notificationType ?? json.eventType ?? '');
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
