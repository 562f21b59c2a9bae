import { verpDecode } from '@mta/contracts';
import type { BounceReport } from '../bounce/report.ts';

/** How a report was tied to the message it is about. */
export type MatchedBy = 'verp' | 'trace-header' | 'message-id';

export interface Correlation {
  messageId: string;
  by: MatchedBy;
}

export interface CorrelateOptions {
  /** The bounce domains (VERP addresses and generated Message-IDs live there). */
  domains: readonly string[];
  /** Other domains whose Message-IDs are ours (`<messageId@domain>`, see the sender's compose.ts); `*` = any. */
  messageIdDomains?: readonly string[];
}

/**
 * The message a report is about, most reliable first:
 * 1. the VERP envelope recipient the report was sent to (`b-<base64url(messageId)>@<bounce domain>`);
 * 2. the sender's trace header `X-MTA-Message-Id` in the returned headers;
 * 3. the returned `Message-ID`, when its domain is one of ours (the sender writes `<messageId@domain>`).
 * Pure; undefined when nothing ties the report to a message of ours.
 */
export function correlate(report: BounceReport, rcptTo: readonly string[], opts: CorrelateOptions): Correlation | undefined {
  for (const rcpt of rcptTo) {
    const id = verpDecode(rcpt, opts.domains);
    if (id) return { messageId: id, by: 'verp' };
  }
  const trace = report.original.mtaMessageId?.trim();
  if (trace) return { messageId: trace, by: 'trace-header' };
  const mid = report.original.messageId;
  if (mid) {
    const at = mid.lastIndexOf('@');
    if (at > 0) {
      const domain = mid.slice(at + 1).toLowerCase();
      const ours = [...opts.domains, ...(opts.messageIdDomains ?? [])].map((d) => d.toLowerCase());
      if (ours.includes('*') || ours.includes(domain)) return { messageId: mid.slice(0, at), by: 'message-id' };
    }
  }
  return undefined;
}
