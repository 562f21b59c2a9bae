import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { AttemptCodec, DeliveryCodec, type Attempt, type Delivery } from '@mta/contracts';
import { createDeliver, type Deliver } from '../src/deliver.ts';
import { createSenderHandler } from '../src/handler.ts';
import { createHostMemory } from '../src/host-memory.ts';
import { createDnsResolver, createMxLookup, type MxLookup } from '../src/mx.ts';
import { parseRoutes } from '../src/routes.ts';
import { TransportCache, type TransportTarget } from '../src/transports.ts';
import { startDns, type FakeDns } from '@mta/testkit';
import { delivery } from './support/fixtures.ts';
import { startDropper, startSmtp, type FakeSmtp } from './support/smtp.ts';

/**
 * Real peers on loopback: an SMTP server (smtp-server, offering STARTTLS), a server that drops
 * every connection, and a DNS server (dns2, UDP) that the sender's real node resolver queries.
 * 127.0.0.2 and 127.0.0.3 are loopback addresses where nothing listens: connections there
 * are refused.
 */
let smtp: FakeSmtp;
let dropper: Awaited<ReturnType<typeof startDropper>>;
let dns: FakeDns;
let mx: MxLookup;
let transports: TransportCache;
let deliver: Deliver;
let deliverToDropper: Deliver;
/** Addresses handed to the transport, in order. */
const dialled: string[] = [];

const checked = (a: Attempt): Attempt => {
  const v = AttemptCodec.validate(a);
  assert.ok(v.ok, v.ok ? '' : v.error.message);
  return a;
};

before(async () => {
  smtp = await startSmtp({
    starttls: true,
    rcpt: (to) => (to.startsWith('unknown') ? '550 5.1.1 user unknown' : to.startsWith('grey') ? '451 4.7.1 greylisted, try again later' : undefined),
  });
  dropper = await startDropper();
  dns = await startDns({
    'ok.test': { mx: [{ exchange: 'mx1.ok.test', priority: 10 }] },
    'mx1.ok.test': { a: ['127.0.0.1'] },
    'failover.test': { mx: [{ exchange: 'live.failover.test', priority: 20 }, { exchange: 'dead.failover.test', priority: 10 }] },
    'dead.failover.test': { a: ['127.0.0.2'] },
    'live.failover.test': { a: ['127.0.0.1'] },
    'reject.test': { mx: [{ exchange: 'mx1.ok.test', priority: 10 }, { exchange: 'backup.reject.test', priority: 20 }] },
    'backup.reject.test': { a: ['127.0.0.3'] },
    'null.test': { mx: [{ exchange: '', priority: 0 }] },
    'servfail.test': { rcode: 'SERVFAIL' },
    'implicit.test': { a: ['127.0.0.1'] },
    'noaddr.test': { mx: [{ exchange: 'ghost.noaddr.test', priority: 10 }] },
    'drop.test': { mx: [{ exchange: 'mx.drop.test', priority: 10 }] },
    'mx.drop.test': { a: ['127.0.0.1'] },
  });
  mx = createMxLookup({ resolver: createDnsResolver({ server: dns.server, timeoutMs: 1000, tries: 1 }) });
  transports = new TransportCache({
    ehloName: 'mta.sender.test',
    tls: 'opportunistic',
    connectionTimeoutMs: 2000,
    greetingTimeoutMs: 2000,
    socketTimeoutMs: 5000,
  });
  const spy = {
    send: (t: TransportTarget, m: Parameters<TransportCache['send']>[1]) => {
      dialled.push(t.host);
      return transports.send(t, m);
    },
  };
  const routes = parseRoutes(`routed.test=127.0.0.1:${smtp.port}`);
  assert.ok(routes.ok);
  deliver = createDeliver({ mx, transports: spy, routes: routes.routes, hostMemory: createHostMemory({ ttlMs: 30_000 }), smtpPort: smtp.port, idDomain: 'mta.sender.test' });
  deliverToDropper = createDeliver({ mx, transports, hostMemory: createHostMemory({ ttlMs: 30_000 }), smtpPort: dropper.port, idDomain: 'mta.sender.test' });
});

after(async () => {
  await transports.closeAll();
  await Promise.all([smtp.close(), dropper.close(), dns.close()]);
});

const to = (local: string, domain: string, over: Partial<Delivery> = {}) => delivery({ to: `${local}@${domain}`, ...over });

test('delivered via MX: attempt record shape and the message as received', async () => {
  const d = to('alice', 'ok.test');
  const before = smtp.received.length;
  const a = checked(await deliver(d));
  assert.equal(a.outcome, 'delivered');
  assert.equal(a.error, undefined);
  assert.deepEqual(
    { ...a, startedAt: 'x', finishedAt: 'x' },
    {
      v: 1, messageId: d.messageId, deliveryId: d.deliveryId, recipient: 'alice@ok.test', recipientDomain: 'ok.test', attempt: 1,
      acceptedAt: d.acceptedAt, validUntil: d.validUntil, startedAt: 'x', finishedAt: 'x', outcome: 'delivered',
      smtp: { mx: `mx1.ok.test:${smtp.port}`, command: 'DATA', code: 250, response: '250 OK: message queued' },
      route: { site: 'mx1.ok.test', host: 'mx1.ok.test', port: smtp.port, via: 'mx' },
      // STARTTLS was offered and used: the session's protocol and cipher are on the record.
      tls: { protocol: 'TLSv1.3', cipher: a.tls?.cipher, policy: 'opportunistic' },
    },
  );
  assert.match(a.tls!.cipher, /^TLS_(AES|CHACHA20)_/);
  const got = smtp.received[before]!;
  assert.equal(got.from, 'bounce@sender.test');
  assert.deepEqual(got.to, ['alice@ok.test']);
  assert.ok(got.secure, 'opportunistic STARTTLS was used');
  assert.match(got.data, /^Subject: Hello$/m);
  assert.match(got.data, /^X-Campaign: c1$/m);
  assert.match(got.data, /^From: Campaign <news@sender.test>$/m);
  assert.match(got.data, new RegExp(`^Message-ID: <${d.messageId}@sender.test>$`, 'm'));
  assert.match(got.data, /Hello there/);
  assert.match(got.data, new RegExp(`^X-MTA-Message-Id: ${d.messageId}$`, 'im'));
  assert.match(got.data, /^MIME-Version: 1.0$/m);
  assert.match(got.data, /^Date: /m);
});

test('raw content arrives byte for byte, below the trace header', async () => {
  const raw = 'From: x@sender.test\r\nTo: bob@ok.test\r\nSubject: raw one\r\nMessage-ID: <raw-1@sender.test>\r\n\r\nline 1\r\n.dot line\r\n';
  const before = smtp.received.length;
  const d = to('bob', 'ok.test', { content: { kind: 'raw', raw } });
  const a = checked(await deliver(d));
  assert.equal(a.outcome, 'delivered');
  assert.equal(smtp.received[before]!.data, `X-MTA-Message-Id: ${d.messageId}\r\n${raw}`);
});

test('pooled connections are reused: N messages, at most maxConnections connections, one MX query', async () => {
  const N = 60;
  const conns = smtp.connections();
  const rcvd = smtp.received.length;
  const limits = { maxConnections: 3, messagesPerConnection: 1000 };
  const attempts = await Promise.all(Array.from({ length: N }, (_, i) => deliver(to(`pool${i}`, 'ok.test', { limits }))));
  assert.ok(attempts.every((a) => a.outcome === 'delivered'));
  assert.equal(smtp.received.length - rcvd, N);
  const opened = smtp.connections() - conns;
  assert.ok(opened >= 1 && opened <= 3, `opened ${opened} connections for ${N} messages`);
  // Sequential messages on the now warm pool open nothing new.
  const warm = smtp.connections();
  for (let i = 0; i < 10; i++) assert.equal((await deliver(to(`seq${i}`, 'ok.test', { limits }))).outcome, 'delivered');
  assert.equal(smtp.connections(), warm);
  assert.equal(dns.queries.filter((q) => q === 'MX ok.test').length, 1, 'MX answer cached');
});

test('messagesPerConnection replaces connections after that many messages', async () => {
  const conns = smtp.connections();
  const limits = { maxConnections: 1, messagesPerConnection: 5 };
  for (let i = 0; i < 12; i++) assert.equal((await deliver(to(`rot${i}`, 'ok.test', { limits }))).outcome, 'delivered');
  assert.equal(smtp.connections() - conns, 3);
});

test('fails over to the next MX when the first refuses, then remembers the dead host', async () => {
  dialled.length = 0;
  const a = checked(await deliver(to('carol', 'failover.test')));
  assert.equal(a.outcome, 'delivered');
  assert.deepEqual(dialled, ['127.0.0.2', '127.0.0.1']);
  assert.equal(a.smtp?.mx, `live.failover.test:${smtp.port}`);
  assert.deepEqual(a.route, { site: 'dead.failover.test,live.failover.test', host: 'live.failover.test', port: smtp.port, via: 'mx' });

  dialled.length = 0;
  const b = checked(await deliver(to('dave', 'failover.test')));
  assert.equal(b.outcome, 'delivered');
  assert.deepEqual(dialled, ['127.0.0.1'], 'the refusing host is not dialled again while remembered');
});

test('RCPT 550 5.1.1: failed with nodemailer\'s error shape, no failover', async () => {
  dialled.length = 0;
  const limits = { maxConnections: 1, messagesPerConnection: 100 };
  const a = checked(await deliver(to('unknown', 'reject.test', { limits })));
  assert.equal(a.outcome, 'failed');
  assert.deepEqual(a.error, {
    code: 'EENVELOPE',
    message: "Can't send mail - all recipients were rejected: 550 5.1.1 user unknown",
    responseCode: 550,
    response: '550 5.1.1 user unknown',
    command: 'RCPT TO',
  });
  assert.deepEqual(a.smtp, { code: 550, enhancedCode: '5.1.1', response: '550 5.1.1 user unknown', mx: `mx1.ok.test:${smtp.port}`, command: 'RCPT TO' });
  assert.deepEqual(dialled, ['127.0.0.1'], 'a reply about the message does not try the backup MX');
  // The connection survives a rejection (RSET) and is reused by the next message.
  const conns = smtp.connections();
  assert.equal((await deliver(to('eve', 'reject.test', { limits }))).outcome, 'delivered');
  assert.equal(smtp.connections(), conns);
});

test('RCPT 451 4.7.1 greylisting: failed, transient code kept', async () => {
  const a = checked(await deliver(to('grey', 'ok.test')));
  assert.equal(a.outcome, 'failed');
  assert.equal(a.error?.code, 'EENVELOPE');
  assert.equal(a.error?.responseCode, 451);
  assert.equal(a.smtp?.code, 451);
  assert.equal(a.smtp?.enhancedCode, '4.7.1');
  assert.equal(a.smtp?.command, 'RCPT TO');
});

test('a server that drops the connection: transient ECONNECTION, then fail fast without redialling', async () => {
  const a = checked(await deliverToDropper(to('frank', 'drop.test')));
  assert.equal(a.outcome, 'failed');
  assert.equal(a.error?.code, 'ECONNECTION');
  assert.equal(a.error?.responseCode, undefined);
  assert.equal(a.smtp?.command, 'CONN');
  assert.equal(a.smtp?.mx, `mx.drop.test:${dropper.port}`);
  const dials = dropper.connections();
  assert.ok(dials >= 1);
  const t0 = Date.now();
  const b = checked(await deliverToDropper(to('grace', 'drop.test')));
  assert.equal(b.outcome, 'failed');
  assert.equal(b.error?.code, 'ECONNECTION');
  assert.match(b.error!.message, /not dialling mx\.drop\.test:\d+ \(127\.0\.0\.1:\d+\): it failed recently: Reached maximum number of retries/);
  assert.equal(dropper.connections(), dials);
  assert.ok(Date.now() - t0 < 200);
});

test('every MX refusing: transient failure naming the last host', async () => {
  // reject.test's backup (127.0.0.3) refuses; the primary answers. Use a domain whose only MX refuses.
  const local = createDeliver({ mx, transports, smtpPort: smtp.port, idDomain: 'mta.sender.test' });
  const a = checked(await local(to('x', 'failover.test', { limits: { maxConnections: 1, messagesPerConnection: 1 } })));
  assert.equal(a.outcome, 'delivered', 'sanity: without memory the live host still delivers');
  const dead = createMxLookup({ resolver: { resolveMx: async () => [{ exchange: 'dead.failover.test', priority: 1 }], resolve4: async () => [{ address: '127.0.0.2', ttl: 60 }], resolve6: async () => [] } });
  const b = checked(await createDeliver({ mx: dead, transports, smtpPort: smtp.port, idDomain: 'x.test' })(to('y', 'dead.test')));
  assert.equal(b.outcome, 'failed');
  assert.equal(b.error?.code, 'ESOCKET');
  assert.match(b.error!.message, /ECONNREFUSED/);
  assert.equal(b.error?.responseCode, undefined);
  assert.equal(b.smtp?.command, 'CONN');
  assert.equal(b.route?.host, 'dead.failover.test');
});

test('DNS outcomes: null MX, NXDOMAIN, SERVFAIL, MX without address', async () => {
  const nul = checked(await deliver(to('a', 'null.test')));
  assert.equal(nul.outcome, 'failed');
  assert.equal(nul.error?.code, 'EDNS');
  assert.match(nul.error!.message, /null MX/);
  assert.equal(nul.error?.responseCode, 556);
  assert.equal(nul.smtp?.enhancedCode, '5.1.10');
  assert.equal(nul.route, undefined);

  const nx = checked(await deliver(to('a', 'nx.test')));
  assert.equal(nx.error?.code, 'EDNS');
  assert.match(nx.error!.message, /nx\.test does not exist \(NXDOMAIN\)/);
  assert.equal(nx.error?.responseCode, 550);
  assert.equal(nx.smtp?.code, 550);
  assert.equal(nx.smtp?.enhancedCode, '5.1.2');

  const sf = checked(await deliver(to('a', 'servfail.test')));
  assert.equal(sf.error?.code, 'EDNS');
  assert.match(sf.error!.message, /SERVFAIL/);
  assert.equal(sf.error?.responseCode, undefined);
  assert.equal(sf.smtp?.code, undefined);

  const ghost = checked(await deliver(to('a', 'noaddr.test')));
  assert.equal(ghost.error?.code, 'EDNS');
  assert.match(ghost.error!.message, /ghost\.noaddr\.test does not exist/);
  assert.equal(ghost.error?.responseCode, undefined, 'an MX host without address is transient');
});

test('implicit MX: a domain with only an A record', async () => {
  const a = checked(await deliver(to('h', 'implicit.test')));
  assert.equal(a.outcome, 'delivered');
  assert.deepEqual(a.route, { site: 'implicit.test', host: 'implicit.test', port: smtp.port, via: 'implicit-mx' });
});

test('a static route wins over DNS (the domain is not even in DNS)', async () => {
  const q = dns.queries.length;
  const a = checked(await deliver(to('i', 'routed.test')));
  assert.equal(a.outcome, 'delivered');
  assert.deepEqual(a.route, { site: `127.0.0.1:${smtp.port}`, host: '127.0.0.1', port: smtp.port, via: 'route' });
  assert.equal(dns.queries.length, q, 'no DNS query for a routed domain');
});

test('handler end to end: record in, attempt record out; a replay produces nothing', async () => {
  const handler = createSenderHandler({ deliver, topics: { attempts: 'mta.attempts', deadLetter: 'mta.dead-letter' } });
  const d = to('judy', 'ok.test');
  const rec = { topic: 'mta.deliveries', partition: 0, offset: '1', key: Buffer.from('ok.test'), value: DeliveryCodec.encode(d), headers: {}, timestamp: String(Date.now()) };
  const before = smtp.received.length;
  const out = await handler(rec);
  assert.equal(out.length, 1);
  const a = AttemptCodec.decode(out[0]!.value as Buffer);
  assert.ok(a.ok && a.value.outcome === 'delivered' && a.value.messageId === d.messageId);
  assert.deepEqual(await handler(rec), []);
  assert.equal(smtp.received.length - before, 1);
});

test('throughput through deliver() on one pool', async (t) => {
  const N = 500;
  const limits = { maxConnections: 5, messagesPerConnection: 1000 };
  const t0 = performance.now();
  const attempts = await Promise.all(Array.from({ length: N }, (_, i) => deliver(to(`bulk${i}`, 'ok.test', { limits }))));
  const ms = performance.now() - t0;
  assert.equal(attempts.filter((a) => a.outcome === 'delivered').length, N);
  t.diagnostic(`${N} messages in ${ms.toFixed(0)} ms: ${Math.round((N / ms) * 1000)} msg/s (SMTP server in the same process)`);
});

test("the shaping rule's TLS policy on the delivery (Delivery.tls) replaces the default", async () => {
  const before = smtp.received.length;
  const plain = checked(await deliver(to('tls-off', 'ok.test', { tls: 'disabled' })));
  assert.equal(plain.outcome, 'delivered');
  assert.equal(plain.tls, undefined, 'no STARTTLS although the server offers it');
  assert.equal(smtp.received[before]!.secure, false);
  const required = checked(await deliver(to('tls-on', 'ok.test', { tls: 'required' })));
  assert.equal(required.outcome, 'delivered');
  assert.equal(required.tls?.policy, 'required');
});
