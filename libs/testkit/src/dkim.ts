import { generateKeyPairSync, type KeyObject } from 'node:crypto';

/** A DKIM key pair for tests: the PEM to drop in MTA_DKIM_DIR and the TXT record to publish. */
export interface TestDkimKey {
  /** PKCS#8 PEM private key (`<dir>/<domain>/<selector>.pem`). */
  pem: string;
  /** `v=DKIM1; k=...; p=...` for `<selector>._domainkey.<domain>`. */
  txt: string;
  publicKey: KeyObject;
}

/** The DKIM TXT record of a public key: SPKI DER for RSA, the raw 32-byte key for Ed25519 (RFC 8463). */
export function dkimTxt(publicKey: KeyObject): string {
  if (publicKey.asymmetricKeyType === 'ed25519') {
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
    return `v=DKIM1; k=ed25519; p=${raw.toString('base64')}`;
  }
  return `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
}

export function generateDkimKey(type: 'rsa' | 'ed25519', bits = 2048): TestDkimKey {
  const { privateKey, publicKey } = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: bits }) : generateKeyPairSync('ed25519');
  return { pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), txt: dkimTxt(publicKey), publicKey };
}
