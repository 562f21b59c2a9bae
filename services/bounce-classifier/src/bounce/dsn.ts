import type { BounceRecipient, DsnAction } from './report.ts';

/**
 * RFC 3464 `message/delivery-status` body: one per-message block, then one block per recipient
 * (Final-Recipient, Action, Status, Remote-MTA, Diagnostic-Code), separated by blank lines. Real
 * DSNs fold long Diagnostic-Codes, leave out the blank lines, or repeat fields: each
 * Final-Recipient / Original-Recipient pair starts a new recipient.
 */
export function parseDeliveryStatus(text: string): BounceRecipient[] {
  const fields: { name: string; value: string }[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && fields.length > 0 && line.trim() !== '') {
      fields[fields.length - 1]!.value += ' ' + line.trim();
      continue;
    }
    const m = /^([A-Za-z][\w-]*)\s*:\s*(.*)$/.exec(line);
    if (m) fields.push({ name: m[1]!.toLowerCase(), value: m[2]!.trim() });
  }

  const out: BounceRecipient[] = [];
  let cur: (Partial<BounceRecipient> & { original?: string; routed?: string }) | undefined;
  const flush = () => {
    // A Final-Recipient that is not a mailbox (a source route `@host:local@server`, Exim's
    // `save to /path`) is less useful than the Original-Recipient the sender wrote.
    const plain = (a: string | undefined) => a !== undefined && /^[^@\s:/]+@[^@\s:]+$/.test(a);
    const recipient = plain(cur?.recipient) ? cur?.recipient : plain(cur?.original) ? cur?.original : (cur?.recipient ?? cur?.original ?? cur?.routed);
    if (cur && recipient) {
      const r: BounceRecipient = { recipient, action: cur.action ?? 'failed', diagnostic: cur.diagnostic ?? '' };
      if (cur.status) r.status = cur.status;
      if (cur.remoteMta) r.remoteMta = cur.remoteMta;
      out.push(r);
    }
    cur = undefined;
  };
  for (const { name, value } of fields) {
    switch (name) {
      case 'final-recipient':
      case 'x-actual-recipient':
        if (name === 'x-actual-recipient' && cur?.recipient) break;
        if (cur?.recipient || cur?.routed) flush();
        cur ??= {};
        // A source route (`@relay:local@host`) is not the address the sender knows.
        if (/^(?:[\w-]+\s*;\s*)?<?@/.test(value.trim())) cur.routed = addressOf(value);
        else cur.recipient = addressOf(value);
        break;
      case 'original-recipient':
        if (cur?.original) flush();
        cur ??= {};
        cur.original = addressOf(value);
        break;
      case 'action': {
        cur ??= {};
        const a = value.toLowerCase().match(/failed|delayed|delivered|relayed|expanded/)?.[0];
        if (a) cur.action = a as DsnAction;
        break;
      }
      case 'status': {
        cur ??= {};
        const s = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(value);
        if (s) cur.status = `${s[1]}.${s[2]}.${s[3]}`;
        break;
      }
      case 'remote-mta':
        cur ??= {};
        cur.remoteMta = value.replace(/^[\w-]+\s*;\s*/, '');
        break;
      case 'diagnostic-code':
        cur ??= {};
        cur.diagnostic = cur.diagnostic ? `${cur.diagnostic} ${stripType(value)}` : stripType(value);
        break;
      default:
        break;
    }
  }
  flush();
  // One entry per recipient: repeated blocks for the same address are merged.
  const merged: BounceRecipient[] = [];
  for (const r of out) {
    const prev = merged.find((m) => m.recipient === r.recipient);
    if (!prev) merged.push(r);
    else {
      if (!prev.diagnostic) prev.diagnostic = r.diagnostic;
      prev.status ??= r.status;
      prev.remoteMta ??= r.remoteMta;
    }
  }
  return merged;
}

/** `rfc822; <a@b>` → `a@b`. */
export function addressOf(value: string): string {
  const v = value.replace(/^[\w-]+\s*;\s*/, '').trim();
  const m = /<([^<>\s]+@[^<>\s]+)>/.exec(v) ?? /([^\s<>"';:,()[\]]+@[^\s<>"';:,()[\]]+)/.exec(v);
  return (m ? m[1]! : v).replace(/\.$/, '').toLowerCase();
}

function stripType(value: string): string {
  // `X-Unix; 255` keeps its type: the exit code of a local delivery program means nothing alone.
  if (/^x-unix\s*;/i.test(value)) return value.trim();
  return value.replace(/^(?:smtp|x-[\w-]+|mail|x400|unix)\s*;\s*/i, '').trim();
}
