/**
 * The sender's per-message path as it was before its own SMTP pool (commit b4949b5), kept for
 * `bench/sender.ts` to measure against in the same invocation: MailComposer's full build for every
 * message, mailauth's stream-based `DkimSigner` (with cached KeyObjects), nodemailer's pool fed
 * `{ envelope, raw }` with an `AbortSignal.timeout` deadline per message.
 */
import { createHash, sign } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';
import { isAscii } from 'node:buffer';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Transporter } from 'nodemailer';
import type { Delivery } from '@mta/contracts';
import { compose, type Composed } from '../services/sender/src/compose.ts';
import type { DkimSignature } from '../services/sender/src/dkim-sign.ts';

const require = createRequire(import.meta.url);
const signerModule = require('mailauth/lib/dkim/dkim-signer.js') as { DkimSigner: new (o: unknown) => Writable & Record<string, any> };
const headerModule = require('mailauth/lib/dkim/header/index.js');
const tools = require('mailauth/lib/tools.js');

export async function legacyMessageBytes(c: Composed): Promise<Buffer> {
  if (typeof c.raw === 'string') return Buffer.from(c.raw, 'utf8');
  const { envelope: _e, ...mail } = c;
  return new MailComposer({ ...mail, disableFileAccess: true, disableUrlAccess: true }).compile().build();
}

class CachedKeyDkimSigner extends signerModule.DkimSigner {
  constructor(
    private readonly keys: DkimSignature[],
    signTime: Date,
  ) {
    super({
      canonicalization: 'relaxed/relaxed',
      signTime,
      signatureData: keys.map((k) => ({ signingDomain: k.domain, selector: k.selector, privateKey: true, algorithm: `${k.type}-sha256`, canonicalization: 'relaxed/relaxed' })),
    });
  }

  async finalize(): Promise<void> {
    if (!this.headers) return;
    const bodyHash = this.bodyHashes.get('relaxed:sha256:')?.hash ?? null;
    for (const k of this.keys) {
      const lines = tools.getSigningHeaderLines(this.headers.parsed, this.headerList);
      const { canonicalizedHeader, dkimHeaderOpts } = headerModule.generateCanonicalizedHeader('DKIM', lines, {
        signingDomain: k.domain,
        selector: k.selector,
        algorithm: `${k.type}-sha256`,
        canonicalization: 'relaxed/relaxed',
        signTime: this.signTime,
        expires: this.expires,
        bodyHash,
      });
      const signature = k.type === 'rsa' ? sign('sha256', canonicalizedHeader, k.key) : sign(null, createHash('sha256').update(canonicalizedHeader).digest(), k.key);
      dkimHeaderOpts.b = signature.toString('base64');
      this.signatureHeaders.push(tools.formatSignatureHeaderLine('DKIM', dkimHeaderOpts, true));
    }
  }
}

export async function legacyDkimSignatures(message: Buffer, keys: DkimSignature[]): Promise<string> {
  const signer = new CachedKeyDkimSigner(keys, new Date());
  await tools.writeToStream(signer, message);
  return signer.signatureHeaders.map((h: string) => h + '\r\n').join('');
}

/** One attempt the old way (a static route, no failover): compose, sign, nodemailer's pool. */
export function legacyDeliver(pool: Transporter, keys: DkimSignature[] | undefined, messageTimeoutMs: number) {
  return async (d: Delivery): Promise<string> => {
    const composed = compose(d, { idDomain: 'bench.test' });
    let raw = await legacyMessageBytes(composed);
    if (keys) raw = Buffer.concat([Buffer.from(await legacyDkimSignatures(raw, keys), 'latin1'), raw]);
    const { from, to } = composed.envelope;
    const info = await pool.sendMail({ envelope: { from, to, use8BitMime: !isAscii(raw) } as never, raw, signal: AbortSignal.timeout(messageTimeoutMs) });
    return info.response as string;
  };
}
