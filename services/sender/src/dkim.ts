import addressparser from 'nodemailer/lib/addressparser';
import { DkimKeyStore } from './dkim-keys.ts';
import { planSignatures } from './dkim-plan.ts';
import { dkimSignatures } from './dkim-sign.ts';

/** The header block of a message (up to the first empty line). */
function headerBlock(message: Buffer): string {
  const ends = [message.indexOf('\r\n\r\n'), message.indexOf('\n\n')].filter((i) => i >= 0);
  const end = ends.length ? Math.min(...ends) : -1;
  return message.subarray(0, end < 0 ? Math.min(message.length, 65536) : end).toString('utf8');
}

/** Domain of the (first) address in the message's From header, lower-cased; undefined without one. */
export function fromDomain(message: Buffer): string | undefined {
  const m = /^from:[ \t]*((?:.*)(?:\r?\n[ \t].*)*)/im.exec(headerBlock(message));
  if (!m) return undefined;
  const value = m[1]!.replace(/\r?\n(?=[ \t])/g, '');
  const first = addressparser(value, { flatten: true })[0];
  const addr = first && 'address' in first ? first.address : undefined;
  const at = addr?.lastIndexOf('@') ?? -1;
  return addr && at > 0 ? addr.slice(at + 1).toLowerCase() : undefined;
}

export interface DkimSignerOptions {
  /** MTA_DKIM_DIR. */
  dir: string;
  /** MTA_DKIM_PLATFORM_DOMAIN: signs every message a second time for this domain when it has keys. */
  platformDomain?: string | undefined;
  /** MTA_DKIM_RELOAD_S, in ms. */
  refreshMs: number;
  onKeyError?: (file: string, err: Error) => void;
}

/** `DKIM-Signature` fields for a message (CRLF-terminated, to prepend), empty when no key applies. */
export type DkimSign = (message: Buffer) => Promise<string>;

/** Signs for the From domain (RSA and/or Ed25519, as its keys are) and the platform domain. */
export function createDkimSigner(opts: DkimSignerOptions): DkimSign {
  const store = new DkimKeyStore({ dir: opts.dir, refreshMs: opts.refreshMs, ...(opts.onKeyError ? { onError: opts.onKeyError } : {}) });
  const platform = opts.platformDomain?.toLowerCase();
  return async (message) => {
    const domain = fromDomain(message);
    const own = domain ? await store.keys(domain) : [];
    const extra = platform && platform !== domain ? await store.keys(platform) : [];
    const plan = planSignatures(own, extra);
    return plan.length ? dkimSignatures(message, plan) : '';
  };
}
