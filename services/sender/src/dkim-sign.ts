import { createHash, sign, type KeyObject } from 'node:crypto';
import signerModule from 'mailauth/lib/dkim/dkim-signer.js';
import headerModule from 'mailauth/lib/dkim/header/index.js';
import tools from 'mailauth/lib/tools.js';

/** One DKIM signature to add: the signing domain (d=), selector (s=) and its parsed key. */
export interface DkimSignature {
  domain: string;
  selector: string;
  type: 'rsa' | 'ed25519';
  key: KeyObject;
}

/**
 * mailauth's DkimSigner, with the last step (the signing) done with a KeyObject parsed once.
 *
 * mailauth parses the message, canonicalises headers and body and formats the header field;
 * its own finalize() turns the key PEM into a KeyObject for every message (`getPrivateKey`),
 * which costs as much as the RSA-2048 signature itself (~1.3 ms), and its KeyObject-less API
 * offers no way around it. This override keeps mailauth's steps (same helpers, same order, DKIM
 * only: no ARC, no l=) and only replaces where the key comes from.
 */
class CachedKeyDkimSigner extends signerModule.DkimSigner {
  constructor(
    private readonly keys: DkimSignature[],
    signTime: Date,
  ) {
    super({
      canonicalization: 'relaxed/relaxed',
      signTime,
      // privateKey only has to be truthy for mailauth to prepare a body hash for the signature.
      signatureData: keys.map((k) => ({ signingDomain: k.domain, selector: k.selector, privateKey: true, algorithm: `${k.type}-sha256`, canonicalization: 'relaxed/relaxed' })),
    });
  }

  override async finalize(): Promise<void> {
    if (!this.headers) return;
    const bodyHash = this.bodyHashes.get('relaxed:sha256:')?.hash ?? null;
    for (const k of this.keys) {
      const lines = tools.getSigningHeaderLines(this.headers.parsed, this.headerList);
      const algorithm = `${k.type}-sha256`;
      const { canonicalizedHeader, dkimHeaderOpts } = headerModule.generateCanonicalizedHeader('DKIM', lines, {
        signingDomain: k.domain,
        selector: k.selector,
        algorithm,
        canonicalization: 'relaxed/relaxed',
        signTime: this.signTime,
        expires: this.expires,
        bodyHash,
      });
      // RFC 8463: Ed25519 signs the SHA-256 hash of the canonicalised header (PureEdDSA).
      const signature =
        k.type === 'rsa' ? sign('sha256', canonicalizedHeader, k.key) : sign(null, createHash('sha256').update(canonicalizedHeader).digest(), k.key);
      dkimHeaderOpts.b = signature.toString('base64');
      this.signatureHeaders.push(tools.formatSignatureHeaderLine('DKIM', dkimHeaderOpts, true));
    }
  }
}

/**
 * The `DKIM-Signature` header fields (each ending in CRLF) for `message`, in the order of
 * `keys`; prepend them to the message. Empty when `keys` is.
 */
export async function dkimSignatures(message: Buffer, keys: DkimSignature[], now: Date = new Date()): Promise<string> {
  if (keys.length === 0) return '';
  const signer = new CachedKeyDkimSigner(keys, now);
  await tools.writeToStream(signer, message);
  if (signer.signatureHeaders.length !== keys.length) throw new Error(`DKIM signing failed: ${String(signer.errors[0] ?? 'no signature produced')}`);
  return signer.signatureHeaders.map((h) => h + '\r\n').join('');
}
