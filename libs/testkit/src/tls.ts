import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A test certificate authority and one server certificate it issued (PEM strings). */
export interface TestCerts {
  /** The CA certificate, for a client's `ca` option. */
  ca: string;
  /** Server certificate and its private key, for a TLS server. */
  cert: string;
  key: string;
}

/**
 * Generates a throwaway CA and a server certificate for `names` (DNS subjectAltNames) with the
 * `openssl` CLI (P-256 keys, valid 2 days). Takes ~50 ms; generate once per test file.
 */
export function generateCerts(names: string[]): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'mta-certs-'));
  const f = (n: string) => join(dir, n);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=MTA Test CA');
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f('srv.key'), '-out', f('srv.csr'), '-subj', `/CN=${names[0] ?? 'localhost'}`);
    writeFileSync(f('ext.cnf'), `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\nextendedKeyUsage=serverAuth\n`);
    openssl('x509', '-req', '-in', f('srv.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('srv.crt'), '-days', '2', '-extfile', f('ext.cnf'));
    return { ca: readFileSync(f('ca.crt'), 'utf8'), cert: readFileSync(f('srv.crt'), 'utf8'), key: readFileSync(f('srv.key'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
