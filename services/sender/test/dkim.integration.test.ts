import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verpDecode } from '@mta/contracts';
import { generateDkimKey, startDns, startPostfixSink, type FakeDns, type TestDkimKey } from '@mta/testkit';
import { createDeliver } from '../src/deliver.ts';
import { createDnsResolver, createMxLookup } from '../src/mx.ts';
import { parseRoutes } from '../src/routes.ts';
import { TransportCache } from '../src/transports.ts';
import { compose, messageBytes } from '../src/compose.ts';
import { createDkimSigner, fromDomain } from '../src/dkim.ts';
import { DkimKeyStore } from '../src/dkim-keys.ts';
import { delivery } from './support/fixtures.ts';

/**
 * Signatures checked by an independent verifier: Debian's python3-dkim (dkimpy, what
 * `dkimverify` runs) fetching the public keys from a real DNS server on loopback.
 */
const VERIFY = new URL('./support/dkim_verify.py', import.meta.url).pathname;
let dns: FakeDns;
let dir: string;
let keys: Record<string, TestDkimKey>;

/** Runs the verifier (asynchronously: the DNS server it asks lives in this process). */
function verify(message: Buffer): Promise<{ d: string; s: string; a: string; ok: boolean }[]> {
  return new Promise((resolve, reject) => {
    const p = spawn('/usr/bin/python3', [VERIFY, dns.server], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (c: Buffer) => out.push(c));
    p.stderr.on('data', (c: Buffer) => err.push(c));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(JSON.parse(Buffer.concat(out).toString('utf8'))) : reject(new Error(`dkim_verify.py exited ${code}: ${Buffer.concat(err).toString()}`))));
    p.stdin.end(message);
  });
}
function put(domain: string, selector: string, pem: string) {
  mkdirSync(join(dir, domain), { recursive: true });
  writeFileSync(join(dir, domain, `${selector}.pem`), pem);
}

before(async () => {
  keys = {
    rsa: generateDkimKey('rsa'),
    ed: generateDkimKey('ed25519'),
    platform: generateDkimKey('rsa', 1024),
    rotated: generateDkimKey('rsa', 1024),
  };
  dns = await startDns({
    's2026a._domainkey.sender.test': { txt: [keys.rsa!.txt] },
    'ed2026a._domainkey.sender.test': { txt: [keys.ed!.txt] },
    'p1._domainkey.platform.test': { txt: [keys.platform!.txt] },
    's2026b._domainkey.sender.test': { txt: [keys.rotated!.txt] },
  });
  dir = mkdtempSync(join(tmpdir(), 'mta-dkim-'));
  put('sender.test', 's2026a', keys.rsa!.pem);
  put('sender.test', 'ed2026a', keys.ed!.pem);
  put('platform.test', 'p1', keys.platform!.pem);
  writeFileSync(join(dir, 'sender.test', 'README'), 'not a key');
  mkdirSync(join(dir, 'broken.test'));
  writeFileSync(join(dir, 'broken.test', 'x.pem'), 'garbage');
});

after(async () => {
  await dns.close();
  rmSync(dir, { recursive: true, force: true });
});

test('structured message: RSA + Ed25519 for the From domain and RSA for the platform domain verify independently', async () => {
  const sign = createDkimSigner({ dir, refreshMs: 60_000, platformDomain: 'platform.test' });
  const body = await messageBytes(compose(delivery({ messageId: 'm-dkim-1' }), { idDomain: 'mta.test' }));
  const signed = Buffer.concat([Buffer.from(await sign(body)), body]);
  const results = await verify(signed);
  assert.deepEqual(
    results.map((r) => [r.d, r.s, r.a, r.ok]),
    [
      ['sender.test', 's2026a', 'rsa-sha256', true],
      ['sender.test', 'ed2026a', 'ed25519-sha256', true],
      ['platform.test', 'p1', 'rsa-sha256', true],
    ],
  );
  // A changed body breaks every signature (the verifier really checks).
  const tampered = Buffer.from(signed.toString('utf8').replace('Hello there', 'Hello thera'));
  assert.deepEqual((await verify(tampered)).map((r) => r.ok), [false, false, false]);
});

test('raw message with LF line endings and folded From: signed as it is, verifies', async () => {
  const raw = 'From: "News"\n <news@Sender.Test>\nTo: a@b.test\nSubject: raw\nDate: Sun, 29 Nov 2026 03:00:00 +0000\nMessage-ID: <r1@sender.test>\n\nraw body\n';
  const c = compose(delivery({ messageId: 'm-raw', content: { kind: 'raw', raw } }), { idDomain: 'mta.test' });
  const body = await messageBytes(c);
  assert.equal(fromDomain(body), 'sender.test');
  const sign = createDkimSigner({ dir, refreshMs: 60_000 });
  const signed = Buffer.concat([Buffer.from(await sign(body)), body]);
  assert.deepEqual((await verify(signed)).map((r) => [r.d, r.ok]), [['sender.test', true], ['sender.test', true]]);
});

test('a From domain without keys gets only the platform signature; none at all without a platform domain', async () => {
  const d = delivery({ from: 'x@nokeys.test' });
  const body = await messageBytes(compose(d, { idDomain: 'mta.test' }));
  assert.equal(await createDkimSigner({ dir, refreshMs: 60_000 })(body), '');
  const sig = await createDkimSigner({ dir, refreshMs: 60_000, platformDomain: 'platform.test' })(body);
  const r = await verify(Buffer.concat([Buffer.from(sig), body]));
  assert.deepEqual(r.map((x) => [x.d, x.ok]), [['platform.test', true]]);
});

test('key store: parsed once, unusable files reported, a new selector picked up without restart', async () => {
  let now = 1_000_000;
  const errors: string[] = [];
  const store = new DkimKeyStore({ dir, refreshMs: 30_000, now: () => now, onError: (f) => errors.push(f) });
  const first = await store.keys('sender.test');
  assert.deepEqual(first.map((k) => [k.selector, k.type]), [['ed2026a', 'ed25519'], ['s2026a', 'rsa']]);
  assert.equal((await store.keys('broken.test')).length, 0);
  assert.deepEqual(errors, [join(dir, 'broken.test', 'x.pem')]);
  assert.equal((await store.keys('../etc')).length, 0);

  // Rotation: the new selector file appears; within refreshMs the cache answers, after it the new key signs.
  put('sender.test', 's2026b', keys.rotated!.pem);
  assert.equal((await store.keys('sender.test')).length, 2);
  now += 30_000;
  const again = await store.keys('sender.test');
  assert.deepEqual(again.map((k) => k.selector), ['ed2026a', 's2026a', 's2026b']);
  // Unchanged files keep their KeyObject (not parsed again).
  assert.equal(again.find((k) => k.selector === 's2026a')!.key, first.find((k) => k.selector === 's2026a')!.key);

  // Replacing a file's content (new mtime) is parsed again.
  writeFileSync(join(dir, 'sender.test', 's2026a.pem'), keys.platform!.pem);
  utimesSync(join(dir, 'sender.test', 's2026a.pem'), new Date(), new Date(Date.now() + 5000));
  now += 30_000;
  const replaced = await store.keys('sender.test');
  assert.notEqual(replaced.find((k) => k.selector === 's2026a')!.key, first.find((k) => k.selector === 's2026a')!.key);
  writeFileSync(join(dir, 'sender.test', 's2026a.pem'), keys.rsa!.pem);

  const sign = createDkimSigner({ dir, refreshMs: 0 });
  const body = await messageBytes(compose(delivery(), { idDomain: 'mta.test' }));
  const r = await verify(Buffer.concat([Buffer.from(await sign(body)), body]));
  assert.deepEqual(r.map((x) => [x.s, x.ok]), [['s2026b', true], ['ed2026a', true]]);
  rmSync(join(dir, 'sender.test', 's2026b.pem'));
});

test("Postfix's smtp-sink receives a signed message with a VERP envelope; the copy it stored verifies", async () => {
  const sink = await startPostfixSink();
  const transports = new TransportCache({ ehloName: 'mta.sender.test', tls: 'opportunistic', connectionTimeoutMs: 3000, greetingTimeoutMs: 3000, socketTimeoutMs: 10_000 });
  try {
    const routes = parseRoutes(`sink.test=127.0.0.1:${sink.port}`);
    assert.ok(routes.ok);
    const deliver = createDeliver({
      mx: createMxLookup({ resolver: createDnsResolver({ server: dns.server, timeoutMs: 1000, tries: 1 }) }),
      transports,
      routes: routes.routes,
      idDomain: 'mta.test',
      bounceDomain: 'bounces.platform.test',
      dkim: createDkimSigner({ dir, refreshMs: 60_000, platformDomain: 'platform.test' }),
    });
    const d = delivery({ to: 'someone@sink.test', messageId: `sink-${process.pid}` });
    const a = await deliver(d);
    assert.equal(a.outcome, 'delivered', JSON.stringify(a.error));
    assert.match(a.smtp!.response!, /^250 2\.0\.0 Ok/);
    const dump = sink.messages().find((m) => m.includes(d.messageId));
    assert.ok(dump, 'smtp-sink stored the message');
    const mailFrom = /^X-Mail-Args: <([^>]+)>/m.exec(dump.toString('utf8'))![1]!;
    assert.equal(verpDecode(mailFrom, ['bounces.platform.test']), d.messageId);
    assert.deepEqual((await verify(dump)).map((r) => [r.d, r.ok]), [['sender.test', true], ['sender.test', true], ['platform.test', true]]);
  } finally {
    await transports.closeAll();
    await sink.close();
  }
});
