import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { createRequire } from 'node:module';
import { dkimSignatures, type DkimSignature } from '../src/dkim-sign.ts';

const require = createRequire(import.meta.url);
/** mailauth's own signer (the stream-based DkimSigner), the reference the fast path must match byte for byte. */
const { dkimSign } = require('mailauth/lib/dkim/sign') as {
  dkimSign(input: Buffer, o: Record<string, unknown>): Promise<{ signatures: string; errors: unknown[] }>;
};

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const keys: DkimSignature[] = [
  { domain: 'sender.test', selector: 's1', type: 'rsa', key: createPrivateKey(rsa) },
  { domain: 'sender.test', selector: 'e1', type: 'ed25519', key: createPrivateKey(ed) },
  { domain: 'platform.test', selector: 'p1', type: 'rsa', key: createPrivateKey(rsa) },
];
const signTime = new Date('2026-11-29T06:00:00Z');

const MESSAGES: Record<string, string> = {
  'CRLF, quoted-printable body': 'From: Brand <news@sender.test>\r\nTo: a@example.test\r\nSubject: Hello\r\nDate: Sun, 29 Nov 2026 06:00:00 +0000\r\nMessage-ID: <1@sender.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nLorem ipsum dolor sit amet,  consectetur=\r\n adipiscing elit. \t \r\n\r\n\r\n',
  'bare LF line endings, folded headers': 'From:\n  "Brand, Inc." <news@sender.test>\nTo: a@example.test,\n\tb@example.test\nSubject:   spaced    out  \nX-Other: 1\n\nline one  \n.dot line\n\n',
  'mixed line endings, no final line break': 'From: news@sender.test\r\nSubject: mixed\nTo: x@example.test\r\n\r\nbody\nmore\r\nlast',
  'multipart with empty lines at the end': 'From: news@sender.test\r\nTo: x@example.test\r\nContent-Type: multipart/alternative; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1--\r\n\r\n\r\n',
  'empty body': 'From: news@sender.test\r\nTo: x@example.test\r\nSubject: nothing\r\n\r\n',
  '8-bit header and body': 'From: José <jose@sender.test>\r\nTo: x@example.test\r\nSubject: Café\r\n\r\nCafé crème\r\n',
};

for (const [name, text] of Object.entries(MESSAGES)) {
  test(`same DKIM-Signature fields as mailauth's signer: ${name}`, async () => {
    const message = Buffer.from(text, 'utf8');
    const ours = await dkimSignatures(message, keys, signTime);
    const theirs = await dkimSign(message, {
      canonicalization: 'relaxed/relaxed',
      signTime,
      signatureData: keys.map((k) => ({ signingDomain: k.domain, selector: k.selector, privateKey: k.type === 'rsa' ? rsa : ed, algorithm: `${k.type}-sha256`, canonicalization: 'relaxed/relaxed' })),
    });
    assert.deepEqual(theirs.errors, []);
    assert.equal(ours, theirs.signatures);
    // Twice: the second takes the body hash from the cache.
    assert.equal(await dkimSignatures(message, keys, signTime), ours);
  });
}

test('no keys: no signature; a message without header/body separator is refused', async () => {
  assert.equal(await dkimSignatures(Buffer.from('From: a@b\r\n\r\nx'), []), '');
  await assert.rejects(dkimSignatures(Buffer.from('From: a@sender.test\r\nSubject: x\r\n'), keys), /no header\/body separator/);
});
