import { createHash, sign, type KeyObject } from 'node:crypto';
import bodyModule from 'mailauth/lib/dkim/body/index.js';
import headerModule from 'mailauth/lib/dkim/header/index.js';
import tools from 'mailauth/lib/tools.js';
import { TtlCache } from './ttl-cache.ts';

/** One DKIM signature to add: the signing domain (d=), selector (s=) and its parsed key. */
export interface DkimSignature {
  domain: string;
  selector: string;
  type: 'rsa' | 'ed25519';
  key: KeyObject;
}

const CRLF_CRLF = Buffer.from('\r\n\r\n');

/** Bare LF → CRLF, as mailauth's MessageParser does before it reads a message (and as the wire will carry it). */
function withCrlf(message: Buffer): Buffer {
  let at = message.indexOf(0x0a);
  if (at < 0) return message;
  let bare = false;
  for (; at >= 0; at = message.indexOf(0x0a, at + 1)) {
    if (at === 0 || message[at - 1] !== 0x0d) {
      bare = true;
      break;
    }
  }
  return bare ? Buffer.from(message.toString('latin1').replace(/(?<!\r)\n/g, '\r\n'), 'latin1') : message;
}

/** Relaxed body hashes (sha256, base64) by a sha256 of the exact body bytes (they never expire; 256 at most). */
const bodyHashes = new TtlCache<string>(256);

/** The relaxed body hash of `body`, computed once per distinct body: a campaign's messages share theirs. */
function bodyHashOf(body: Buffer): string {
  const key = createHash('sha256').update(body).digest('base64');
  const hit = bodyHashes.get(key, 0);
  if (hit !== undefined) return hit;
  const hasher = bodyModule.dkimBody('relaxed', 'sha256', false);
  hasher.update(body);
  const bh = hasher.digest('base64');
  bodyHashes.set(key, bh, Infinity);
  return bh;
}

/** The RSA or Ed25519 signature of a canonicalised header, on the libuv thread pool (off the event loop). */
function signHeader(k: DkimSignature, canonicalizedHeader: Buffer): Promise<Buffer> {
  // RFC 8463: Ed25519 signs the SHA-256 hash of the canonicalised header (PureEdDSA).
  const data = k.type === 'rsa' ? canonicalizedHeader : createHash('sha256').update(canonicalizedHeader).digest();
  return new Promise((resolve, reject) => sign(k.type === 'rsa' ? 'sha256' : null, data, k.key, (err, sig) => (err ? reject(err) : resolve(sig))));
}

/**
 * The `DKIM-Signature` header fields (each ending in CRLF) for `message`, in the order of
 * `keys`; prepend them to the message. Empty when `keys` is.
 *
 * mailauth's steps, called directly instead of through its `DkimSigner` stream: the stream reads
 * the header byte by byte through a sliding array and costs as much CPU as the RSA-2048
 * signature itself (~1.2 ms for a 5 KB message); its `dkimSign` also parses the key PEM on every
 * message. Here, as mailauth does: bare LF → CRLF; the header ends at the first empty line (a
 * message without one is not signed); mailauth's `parseHeaders`, default header list
 * (`getSigningHeaderLines`), relaxed/relaxed canonicalisation (`dkimBody`,
 * `generateCanonicalizedHeader`) and header formatting (`formatSignatureHeaderLine`). Only DKIM,
 * no ARC, no l=. The body hash is computed once per distinct body (keyed by a SHA-256 of its
 * exact bytes: only the body hash can be shared, the signed header list is per message), and the
 * signatures are made on the thread pool with the KeyObjects parsed once by the key store.
 */
export async function dkimSignatures(message: Buffer, keys: DkimSignature[], now: Date = new Date()): Promise<string> {
  if (keys.length === 0) return '';
  const msg = withCrlf(message);
  const end = msg.indexOf(CRLF_CRLF);
  if (end < 0) throw new Error('DKIM signing failed: the message has no header/body separator');
  const headers = tools.parseHeaders(msg.subarray(0, end + 4));
  const bodyHash = bodyHashOf(msg.subarray(end + 4));
  const lines = tools.getSigningHeaderLines(headers.parsed);
  const out: string[] = [];
  for (const k of keys) {
    const { canonicalizedHeader, dkimHeaderOpts } = headerModule.generateCanonicalizedHeader('DKIM', lines, {
      signingDomain: k.domain,
      selector: k.selector,
      algorithm: `${k.type}-sha256`,
      canonicalization: 'relaxed/relaxed',
      signTime: now,
      bodyHash,
    });
    dkimHeaderOpts.b = (await signHeader(k, canonicalizedHeader)).toString('base64');
    out.push(tools.formatSignatureHeaderLine('DKIM', dkimHeaderOpts, true) + '\r\n');
  }
  return out.join('');
}
