import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, LookupFunction } from 'node:net';
import { parseIpPools } from '@mta/config';
import { AttemptCodec, type Attempt, type Delivery } from '@mta/contracts';
import { generateCerts, startDns, startPeer, type FakeDns, type Peer, type TestCerts } from '@mta/testkit';
import { createDeliver, type Deliver, type DeliverDeps } from '../src/deliver.ts';
import { createHostMemory } from '../src/host-memory.ts';
import { createMtaSts, httpsStsFetcher } from '../src/mta-sts.ts';
import { createDnsResolver, createMxLookup, type MxLookup } from '../src/mx.ts';
import { parseRoutes } from '../src/routes.ts';
import { parseTlsPolicies } from '../src/tls-policy.ts';
import { TransportCache } from '../src/transports.ts';
import { delivery } from './support/fixtures.ts';

/**
 * The sender against real, misbehaving peers on loopback (smtp-server instances from
 * @mta/testkit), a real DNS server, and a real HTTPS server publishing MTA-STS policies with a
 * certificate from a generated test CA.
 */
let certs: TestCerts;
let dns: FakeDns;
let mx: MxLookup;
let https: Server;
let transports: TransportCache;
let slowTransports: TransportCache;
let deadlineTransports: TransportCache;
const peers: Record<string, Peer> = {};

const checked = (a: Attempt): Attempt => {
  const v = AttemptCodec.validate(a);
  assert.ok(v.ok, v.ok ? '' : v.error.message);
  return a;
};
const to = (local: string, domain: string, over: Partial<Delivery> = {}) => delivery({ to: `${local}@${domain}`, ...over });

const POLICIES: Record<string, string> = {
  'mta-sts.sts.test': 'version: STSv1\nmode: enforce\nmx: mx.sts.test\nmx: *.stscert.test\nmax_age: 86400\n',
  'mta-sts.stsother.test': 'version: STSv1\nmode: enforce\nmx: mx.sts.test\nmax_age: 86400\n',
  'mta-sts.stscert.test': 'version: STSv1\nmode: enforce\nmx: *.stscert.test\nmax_age: 86400\n',
};

function deliverWith(over: Partial<DeliverDeps>): Deliver {
  return createDeliver({ mx, transports, hostMemory: createHostMemory({ ttlMs: 30_000 }), idDomain: 'mta.test', ...over });
}
function routes(spec: string) {
  const r = parseRoutes(spec);
  assert.ok(r.ok);
  return r.routes;
}

before(async () => {
  certs = generateCerts(['mx.tls.test', 'mx.sts.test', 'mta-sts.sts.test', 'mta-sts.stsother.test', 'mta-sts.stscert.test']);
  const [tls, plain, grey, drop, slow, partial, noutf8, pooled, slowData] = await Promise.all([
    startPeer({ tls: certs }),
    startPeer({}),
    startPeer({ greylist: true }),
    startPeer({ dropInData: 200 }),
    startPeer({ slow: { ms: 1500, at: 'rcpt' } }),
    startPeer({ rejectRcpt: (a) => (a.startsWith('nobody') ? '550 5.1.1 No such user here' : undefined) }),
    startPeer({ smtputf8: false }),
    startPeer({ requireAddress: ['127.0.0.2', '127.0.0.3'] }),
    startPeer({ slow: { ms: 1500, at: 'data' } }),
  ]);
  Object.assign(peers, { tls, plain, grey, drop, slow, partial, noutf8, pooled, slowData });
  dns = await startDns({
    'tls.test': { mx: [{ exchange: 'mx.tls.test', priority: 10 }] },
    'mx.tls.test': { a: ['127.0.0.1'] },
    'sts.test': { mx: [{ exchange: 'mx.sts.test', priority: 10 }] },
    '_mta-sts.sts.test': { txt: ['v=STSv1; id=20261129'] },
    'mx.sts.test': { a: ['127.0.0.1'] },
    // MX not listed in its policy.
    'stsother.test': { mx: [{ exchange: 'mx.tls.test', priority: 10 }] },
    '_mta-sts.stsother.test': { txt: ['v=STSv1; id=1'] },
    // MX listed, but the peer's certificate does not name it.
    'stscert.test': { mx: [{ exchange: 'mx1.stscert.test', priority: 10 }] },
    'mx1.stscert.test': { a: ['127.0.0.1'] },
    '_mta-sts.stscert.test': { txt: ['v=STSv1; id=1'] },
  });
  mx = createMxLookup({ resolver: createDnsResolver({ server: dns.server, timeoutMs: 1000, tries: 1 }) });
  https = createServer({ key: certs.key, cert: certs.cert }, (req, res) => {
    const policy = POLICIES[(req.headers.host ?? '').replace(/:\d+$/, '')];
    if (req.url !== '/.well-known/mta-sts.txt' || !policy) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/plain' }).end(policy);
  });
  await new Promise<void>((r) => https.listen(0, '127.0.0.1', () => r()));
  const timeouts = { connectionTimeoutMs: 3000, greetingTimeoutMs: 3000, socketTimeoutMs: 10_000 };
  transports = new TransportCache({ ehloName: 'mta.sender.test', tls: 'opportunistic', ca: certs.ca, ...timeouts });
  slowTransports = new TransportCache({ ehloName: 'mta.sender.test', tls: 'opportunistic', connectionTimeoutMs: 3000, greetingTimeoutMs: 3000, socketTimeoutMs: 400 });
  deadlineTransports = new TransportCache({ ehloName: 'mta.sender.test', tls: 'opportunistic', ...timeouts, messageTimeoutMs: 400 });
});

after(async () => {
  await Promise.all([transports.closeAll(), slowTransports.closeAll(), deadlineTransports.closeAll()]);
  await Promise.all([...Object.values(peers).map((p) => p.close()), dns.close(), new Promise((r) => https.close(r))]);
});

test('STARTTLS peer with a generated certificate: opportunistic TLS recorded with protocol and cipher', async () => {
  const deliver = deliverWith({ smtpPort: peers.tls!.port });
  const a = checked(await deliver(to('a', 'tls.test')));
  assert.equal(a.outcome, 'delivered', JSON.stringify(a.error));
  assert.equal(a.tls?.policy, 'opportunistic');
  assert.match(a.tls!.protocol, /^TLSv1\.[23]$/);
  assert.ok(a.tls!.cipher.length > 0);
  assert.equal(peers.tls!.received.at(-1)!.secure, true);
});

test('per-domain TLS policy: disabled stays plain on a STARTTLS peer; required fails on a peer without STARTTLS', async () => {
  const deliver = deliverWith({
    routes: routes(`notls.test=127.0.0.1:${peers.tls!.port},needtls.test=127.0.0.1:${peers.plain!.port},opp.test=127.0.0.1:${peers.plain!.port}`),
    tlsPolicies: (parseTlsPolicies('notls.test=disabled,.test=required,opp.test=opportunistic') as { ok: true; policies: never }).policies,
  });
  const plain = checked(await deliver(to('a', 'notls.test')));
  assert.equal(plain.outcome, 'delivered');
  assert.equal(plain.tls, undefined);
  assert.equal(peers.tls!.received.at(-1)!.secure, false);

  const before = peers.plain!.received.length;
  const req = checked(await deliver(to('b', 'needtls.test')));
  assert.equal(req.outcome, 'failed');
  assert.equal(req.error?.code, 'ETLS', JSON.stringify(req.error));
  assert.equal(peers.plain!.received.length, before, 'nothing sent in clear text');

  const opp = checked(await deliver(to('c', 'opp.test')));
  assert.equal(opp.outcome, 'delivered');
  assert.equal(opp.tls, undefined);
});

test('MTA-STS enforce: verified certificate and listed MX deliver; unlisted MX or a certificate for another name do not', async () => {
  const lookup = ((_host: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) =>
    opts?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as unknown as LookupFunction;
  const fetched: string[] = [];
  const fetcher = httpsStsFetcher({ port: (https.address() as AddressInfo).port, ca: certs.ca, lookup });
  const mtaSts = createMtaSts({
    resolveTxt: (n) => createDnsResolver({ server: dns.server, timeoutMs: 1000, tries: 1 }).resolveTxt!(n),
    fetch: (d) => (fetched.push(d), fetcher(d)),
  });
  const deliver = deliverWith({ smtpPort: peers.tls!.port, mtaSts });

  const ok = checked(await deliver(to('a', 'sts.test')));
  assert.equal(ok.outcome, 'delivered', JSON.stringify(ok.error));
  assert.equal(ok.tls?.policy, 'mta-sts');
  assert.equal(checked(await deliver(to('b', 'sts.test'))).outcome, 'delivered');
  assert.deepEqual(fetched, ['sts.test'], 'policy fetched once and cached for its max_age');

  const unlisted = checked(await deliver(to('a', 'stsother.test')));
  assert.equal(unlisted.outcome, 'failed');
  assert.equal(unlisted.error?.code, 'ETLS');
  assert.match(unlisted.error!.message, /not an MX host allowed/);

  const badCert = checked(await deliver(to('a', 'stscert.test')));
  assert.equal(badCert.outcome, 'failed');
  assert.match(badCert.error!.message, /certificate|altnames|Hostname/i, JSON.stringify(badCert.error));

  // Without MTA-STS the same MX takes the message with opportunistic TLS.
  assert.equal(checked(await deliverWith({ smtpPort: peers.tls!.port })(to('a', 'stscert.test'))).outcome, 'delivered');
});

test('greylisting peer: first attempt 451, the retry from the same source address is accepted', async () => {
  const pools = parseIpPools('default=127.0.0.2/mta2.sender.test,127.0.0.3/mta3.sender.test', 'mta.sender.test');
  assert.ok(pools.ok);
  const deliver = deliverWith({ routes: routes(`grey.test=127.0.0.1:${peers.grey!.port}`), ipPools: pools.pools });
  const d = to('g', 'grey.test');
  const first = checked(await deliver(d));
  assert.equal(first.outcome, 'failed');
  assert.deepEqual([first.error?.responseCode, first.smtp?.enhancedCode, first.smtp?.command], [451, '4.7.1', 'RCPT TO']);
  const second = checked(await deliver({ ...d, attempt: 2 }));
  assert.equal(second.outcome, 'delivered');
  assert.equal(second.route?.sourceIp, first.route?.sourceIp);
  assert.equal(second.route?.ipPool, 'default');
  assert.deepEqual(
    peers.grey!.rcptReplies.map((r) => [r.code, r.remoteAddress]),
    [[451, first.route!.sourceIp], [250, first.route!.sourceIp]],
  );
});

test('IP pools: source address and its EHLO name as the receiving server sees them', async () => {
  const pools = parseIpPools('default=127.0.0.2/mta2.sender.test,127.0.0.3/mta3.sender.test;bulk=127.0.0.3/mta3.sender.test', 'mta.sender.test');
  assert.ok(pools.ok);
  const deliver = deliverWith({ routes: routes(`*=127.0.0.1:${peers.pooled!.port}`), ipPools: pools.pools });
  const seen = new Map<string, string>();
  for (const domain of ['p1.test', 'p2.test', 'p3.test', 'p4.test', 'p5.test', 'p6.test']) {
    for (let i = 0; i < 2; i++) {
      const a = checked(await deliver(to(`u${i}`, domain)));
      assert.equal(a.outcome, 'delivered', JSON.stringify(a.error));
      const got = peers.pooled!.received.at(-1)!;
      assert.equal(got.remoteAddress, a.route?.sourceIp);
      assert.equal(got.clientHostname, a.route?.sourceIp === '127.0.0.2' ? 'mta2.sender.test' : 'mta3.sender.test');
      if (seen.has(domain)) assert.equal(seen.get(domain), a.route?.sourceIp, 'a domain sticks to its address');
      seen.set(domain, a.route!.sourceIp!);
    }
  }
  assert.deepEqual(new Set(seen.values()), new Set(['127.0.0.2', '127.0.0.3']), 'domains spread over the pool');
  const bulk = checked(await deliver(to('b', 'p1.test', { ipPool: 'bulk' })));
  assert.deepEqual([bulk.route?.ipPool, bulk.route?.sourceIp, peers.pooled!.received.at(-1)!.remoteAddress], ['bulk', '127.0.0.3', '127.0.0.3']);
  const chosen = checked(await deliver(to('c', 'p1.test', { sourceIp: '127.0.0.2' })));
  assert.equal(peers.pooled!.received.at(-1)!.remoteAddress, '127.0.0.2');
  assert.equal(chosen.route?.sourceIp, '127.0.0.2');
  // Without pools the OS picks 127.0.0.1, which this peer refuses at connection time.
  const refused = checked(await deliverWith({ routes: routes(`*=127.0.0.1:${peers.pooled!.port}`) })(to('d', 'p1.test')));
  assert.equal(refused.outcome, 'failed');
  assert.equal(refused.error?.responseCode, 554);
});

test('peer dropping the connection in the middle of DATA: a transient failure, nothing delivered', async () => {
  const deliver = deliverWith({ routes: routes(`drop.test=127.0.0.1:${peers.drop!.port}`) });
  const a = checked(await deliver(to('x', 'drop.test', { content: { kind: 'structured', subject: 'big', text: 'x'.repeat(50_000) } })));
  assert.equal(a.outcome, 'failed');
  assert.ok(['ECONNECTION', 'ESOCKET'].includes(a.error!.code), JSON.stringify(a.error));
  assert.equal(a.error?.responseCode, undefined);
  assert.equal(peers.drop!.received.length, 0);
});

test('peer slower than the socket timeout: ETIMEDOUT, a transient failure', async () => {
  const deliver = createDeliver({ mx, transports: slowTransports, routes: routes(`slow.test=127.0.0.1:${peers.slow!.port}`), idDomain: 'mta.test' });
  const a = checked(await deliver(to('x', 'slow.test')));
  assert.equal(a.outcome, 'failed');
  assert.equal(a.error?.code, 'ETIMEDOUT', JSON.stringify(a.error));
  assert.equal(a.error?.responseCode, undefined);
});

test('peer that does not end DATA within the message deadline (socket timeout far longer): ETIMEDOUT at DATA', async () => {
  const deliver = createDeliver({ mx, transports: deadlineTransports, routes: routes(`slowdata.test=127.0.0.1:${peers.slowData!.port}`), idDomain: 'mta.test' });
  const a = checked(await deliver(to('x', 'slowdata.test')));
  assert.equal(a.outcome, 'failed');
  assert.deepEqual([a.error?.code, a.error?.command, a.error?.responseCode], ['ETIMEDOUT', 'DATA', undefined], JSON.stringify(a.error));
  assert.match(a.error!.message, /MTA_SMTP_MESSAGE_TIMEOUT_MS/);
});

test('peer rejecting some recipients of a session: per-recipient outcomes, one connection', async () => {
  const deliver = deliverWith({ routes: routes(`partial.test=127.0.0.1:${peers.partial!.port}`) });
  const limits = { maxConnections: 1, messagesPerConnection: 100 };
  const out: Attempt[] = [];
  for (const local of ['ann', 'nobody1', 'bob', 'nobody2', 'cid']) out.push(checked(await deliver(to(local, 'partial.test', { limits }))));
  assert.deepEqual(out.map((a) => a.outcome), ['delivered', 'failed', 'delivered', 'failed', 'delivered']);
  const rejected = out[1]!;
  assert.deepEqual(
    [rejected.error?.code, rejected.error?.responseCode, rejected.error?.command, rejected.smtp?.code, rejected.smtp?.enhancedCode],
    ['EENVELOPE', 550, 'RCPT TO', 550, '5.1.1'],
  );
  assert.equal(peers.partial!.connections.length, 1, 'the session survives rejected recipients');
  assert.deepEqual(peers.partial!.received.map((m) => m.to[0]), ['ann@partial.test', 'bob@partial.test', 'cid@partial.test']);
});

test('SMTPUTF8 and 8BITMIME: used when offered; an internationalised address to a peer without SMTPUTF8 fails permanently', async () => {
  const deliver = deliverWith({ routes: routes(`utf8.test=127.0.0.1:${peers.plain!.port},ascii.test=127.0.0.1:${peers.noutf8!.port}`) });
  const ok = checked(await deliver(to('josé', 'utf8.test')));
  assert.equal(ok.outcome, 'delivered', JSON.stringify(ok.error));
  const got = peers.plain!.received.at(-1)!;
  assert.deepEqual(got.to, ['josé@utf8.test']);
  assert.equal(got.mailParams.SMTPUTF8, true);

  const before = peers.noutf8!.received.length;
  const refused = checked(await deliver(to('josé', 'ascii.test')));
  assert.equal(refused.outcome, 'failed');
  assert.deepEqual(
    [refused.error?.code, refused.error?.responseCode, refused.error?.command, refused.smtp?.enhancedCode],
    ['EENVELOPE', 553, 'MAIL FROM', '5.6.7'],
  );
  assert.equal(peers.noutf8!.received.length, before);

  const raw = 'From: a@sender.test\r\nTo: b@ascii.test\r\nSubject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nCafé crème\r\n';
  assert.equal(checked(await deliver(to('b', 'ascii.test', { content: { kind: 'raw', raw } }))).outcome, 'delivered');
  assert.equal(peers.noutf8!.received.at(-1)!.mailParams.BODY, '8BITMIME');
  assert.equal(checked(await deliver(to('c', 'ascii.test'))).outcome, 'delivered');
  assert.equal(peers.noutf8!.received.at(-1)!.mailParams.BODY, undefined, 'ASCII messages do not claim 8BITMIME');
});
