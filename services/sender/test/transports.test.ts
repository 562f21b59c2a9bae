import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateCerts, startPeer, type Peer } from '@mta/testkit';
import type { SmtpCommandEvent } from '../src/smtp-commands.ts';
import { TransportCache, type PoolMessage, type TransportCacheOptions } from '../src/transports.ts';
import { startDropper, startOneShot, startSmtp, type FakeSmtp } from './support/smtp.ts';

/**
 * The SMTP pools against real servers on loopback: smtp-server instances (one offering STARTTLS
 * with a generated certificate, one slow to answer DATA), a server that drops connections before
 * the greeting, and one that takes a single message per connection.
 */
let smtp: FakeSmtp;
let tlsPeer: Peer;
let slowData: Peer;
const base = { ehloName: 'mta.test', connectionTimeoutMs: 3000, greetingTimeoutMs: 3000, socketTimeoutMs: 10_000 };
const target = (port: number, maxConnections = 2, maxMessages = 50) => ({ host: '127.0.0.1', port, maxConnections, maxMessages });
let n = 0;
const msg = (to = `rcpt${++n}@example.test`, body = 'hello'): PoolMessage => ({
  envelope: { from: 'bounce@sender.test', to: [to] },
  raw: Buffer.from(`From: a@sender.test\r\nTo: ${to}\r\nSubject: t${n}\r\n\r\n${body}\r\n`),
  site: 'example.test',
});

before(async () => {
  const certs = generateCerts(['mx.tls.test']);
  [smtp, tlsPeer, slowData] = await Promise.all([startSmtp(), startPeer({ tls: certs }), startPeer({ slow: { ms: 600, at: 'data' } })]);
});
after(async () => {
  await Promise.all([smtp.close(), tlsPeer.close(), slowData.close()]);
});

test('TLS modes, source address and EHLO name map to SMTPConnection options', () => {
  const cache = new TransportCache({ ...base, tls: 'opportunistic', ca: 'CA-PEM' });
  const rows = [
    { tls: 'opportunistic', ignoreTLS: false, requireTLS: false, opportunisticTLS: true, rejectUnauthorized: false },
    { tls: 'required', ignoreTLS: false, requireTLS: true, opportunisticTLS: false, rejectUnauthorized: false },
    { tls: 'mta-sts', ignoreTLS: false, requireTLS: true, opportunisticTLS: false, rejectUnauthorized: true },
    { tls: 'disabled', ignoreTLS: true, requireTLS: false, opportunisticTLS: false, rejectUnauthorized: undefined },
  ] as const;
  for (const r of rows) {
    const o = cache.connectionOptions({ ...target(25), tls: r.tls, servername: 'mx.example.test', localAddress: '198.51.100.7', ehloName: 'out7.mta.test' });
    assert.deepEqual(
      [o.ignoreTLS, o.requireTLS, o.opportunisticTLS, (o.tls as { rejectUnauthorized?: boolean } | undefined)?.rejectUnauthorized],
      [r.ignoreTLS, r.requireTLS, r.opportunisticTLS, r.rejectUnauthorized],
      r.tls,
    );
    assert.equal(o.localAddress, '198.51.100.7');
    assert.equal(o.name, 'out7.mta.test');
    if (r.tls === 'mta-sts') assert.deepEqual(o.tls, { rejectUnauthorized: true, servername: 'mx.example.test', ca: 'CA-PEM' });
  }
  const d = cache.connectionOptions(target(25));
  assert.deepEqual([d.host, d.port, d.secure, d.name, d.connectionTimeout, d.greetingTimeout, d.socketTimeout], ['127.0.0.1', 25, false, 'mta.test', 3000, 3000, 10_000]);
  assert.deepEqual(d.tls, { rejectUnauthorized: false }, 'opportunistic by default, unverified');
  const none = new TransportCache({ ...base, tls: 'none' }).connectionOptions(target(25));
  assert.equal(none.ignoreTLS, true);
  assert.equal(none.tls, undefined);
  void cache.closeAll();
});

test('one pool per destination and limits; connections reused across messages, at most maxConnections', async () => {
  const cache = new TransportCache({ ...base, tls: 'none' });
  const conns = smtp.connections();
  const rcvd = smtp.received.length;
  const infos = await Promise.all(Array.from({ length: 20 }, () => cache.send(target(smtp.port, 2), msg())));
  assert.ok(infos.every((i) => /^250 /.test(i.response) && i.accepted.length === 1 && i.rejected.length === 0));
  assert.equal(smtp.received.length - rcvd, 20);
  assert.ok(smtp.connections() - conns <= 2, `${smtp.connections() - conns} connections for 20 messages`);
  assert.equal(cache.size, 1);
  assert.ok(cache.connectionCount() >= 1 && cache.connectionCount() <= 2, 'connections stay open after the messages');
  const warm = smtp.connections();
  for (let i = 0; i < 5; i++) await cache.send(target(smtp.port, 2), msg());
  assert.equal(smtp.connections(), warm, 'sequential messages reuse the open connections');
  await cache.send(target(smtp.port, 3), msg());
  assert.equal(cache.size, 2, 'other limits, another pool');
  await cache.closeAll();
});

test('messages per connection: a connection is replaced after maxMessages', async () => {
  const cache = new TransportCache({ ...base, tls: 'none' });
  const conns = smtp.connections();
  for (let i = 0; i < 7; i++) await cache.send(target(smtp.port, 1, 3), msg());
  assert.equal(smtp.connections() - conns, 3);
  await cache.closeAll();
});

test('idle pools are closed by the sweep; closeAll closes the rest and refuses new sends', async () => {
  let t = 0;
  const cache = new TransportCache({ ...base, tls: 'none', idleCloseMs: 60_000, now: () => t });
  await cache.send(target(smtp.port), msg());
  t = 30_000;
  await cache.send(target(smtp.port, 3), msg());
  t = 60_000;
  cache.sweep();
  assert.equal(cache.size, 1);
  await cache.closeAll();
  assert.equal(cache.size, 0);
  assert.equal(cache.connectionCount(), 0);
  await assert.rejects(cache.send(target(smtp.port), msg()), { code: 'ECONNECTION' });
});

test('an idle connection is closed after idleCloseMs, also after it was reused', async () => {
  const cache = new TransportCache({ ...base, tls: 'none', idleCloseMs: 150 });
  const conns = smtp.connections();
  await cache.send(target(smtp.port, 1), msg());
  await new Promise((r) => setTimeout(r, 50));
  await cache.send(target(smtp.port, 1), msg());
  assert.equal(smtp.connections() - conns, 1, 'reused within idleCloseMs');
  assert.equal(cache.connectionCount(), 1);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(cache.connectionCount(), 0);
  await cache.closeAll();
});

test('a reused connection the server dropped: the message goes again over a new connection (once)', async () => {
  const oneShot = await startOneShot();
  try {
    const cache = new TransportCache({ ...base, tls: 'none' });
    const t = target(oneShot.port, 1);
    await cache.send(t, msg());
    const info = await cache.send(t, msg());
    assert.match(info.response, /^250 /);
    assert.equal(oneShot.received(), 2);
    assert.equal(oneShot.connections(), 2, 'the dropped connection was replaced');
    await cache.closeAll();
  } finally {
    await oneShot.close();
  }
});

test('a server that closes every connection before the greeting: requeued once, then nodemailer\'s error', async () => {
  const dropper = await startDropper();
  try {
    const cache = new TransportCache({ ...base, tls: 'none' });
    await assert.rejects(cache.send(target(dropper.port, 1), msg()), (err: Error & { code?: string; command?: string }) => {
      assert.equal(err.code, 'ECONNECTION');
      assert.equal(err.command, 'CONN');
      assert.match(err.message, /^Reached maximum number of retries/);
      return true;
    });
    assert.equal(dropper.connections(), 2, 'one dial and one requeue');
    await cache.closeAll();
  } finally {
    await dropper.close();
  }
});

test('a refused connection fails the message at once, with the system error kept', async () => {
  const cache = new TransportCache({ ...base, tls: 'none' });
  await assert.rejects(cache.send({ ...target(smtp.port), host: '127.0.0.2' }, msg()), (err: Error & { code?: string; originalCode?: string; command?: string }) => {
    assert.equal(err.code, 'ESOCKET');
    assert.equal(err.originalCode, 'ECONNREFUSED');
    assert.equal(err.command, 'CONN');
    return true;
  });
  await cache.closeAll();
});

test('message deadline: ETIMEDOUT at DATA, the connection is closed, the pool goes on', async () => {
  const cache = new TransportCache({ ...base, tls: 'none', messageTimeoutMs: 250 });
  await assert.rejects(cache.send(target(slowData.port, 1), msg()), (err: Error & { code?: string; command?: string; timeoutType?: string }) => {
    assert.deepEqual([err.code, err.command, err.timeoutType], ['ETIMEDOUT', 'DATA', 'MESSAGE_TIMEOUT']);
    assert.match(err.message, /MTA_SMTP_MESSAGE_TIMEOUT_MS/);
    return true;
  });
  assert.equal(cache.connectionCount(), 0, 'the connection carrying it was closed');
  await cache.closeAll();
});

test('validity end while queued for a connection: the message leaves unsent (EEXPIRED), the one on the connection finishes', async () => {
  const cache = new TransportCache({ ...base, tls: 'none' });
  const m1 = msg();
  const onConnection = cache.send(target(slowData.port, 1), { ...m1, notAfter: Date.now() + 60_000 }); // holds the only connection (slow DATA)
  const m2 = msg();
  const err = await cache.send(target(slowData.port, 1), { ...m2, notAfter: Date.now() + 100 }).then(
    () => assert.fail('sent after its validity ended'),
    (e: Error & { code?: string; command?: string }) => e,
  );
  assert.deepEqual([err.code, err.command], ['EEXPIRED', 'CONN']);
  assert.match(err.message, /validity period ended .* while waiting for a connection/);
  assert.match((await onConnection).response, /^250 /, 'the message on the connection is finished');
  assert.ok(!slowData.received.some((m) => m.to[0] === m2.envelope.to[0]), 'the expired message never reached the server');
  const late = await cache.send(target(slowData.port, 1), { ...msg(), notAfter: Date.now() - 1 }).then(
    () => 'sent',
    (e: Error & { code?: string }) => e.code,
  );
  assert.equal(late, 'EEXPIRED', 'already past its validity: not sent');
  // A validity end beyond what a timer can wait (2^31-1 ms) is not "now".
  assert.match((await cache.send(target(slowData.port, 1), { ...msg(), notAfter: Date.parse('2099-01-01T00:00:00Z') })).response, /^250 /);
  await cache.closeAll();
});

test('closeAll drains: the message in flight finishes, a queued one fails', async () => {
  const cache = new TransportCache({ ...base, tls: 'none' });
  const m1 = msg();
  const inFlight = cache.send(target(slowData.port, 1), m1);
  const queued = cache.send(target(slowData.port, 1), msg()).then(
    () => assert.fail('the queued message was sent after closeAll'),
    (err: Error) => err,
  );
  await new Promise((r) => setTimeout(r, 100));
  await cache.closeAll(5000);
  const info = await inFlight;
  assert.match(info.response, /^250 /);
  assert.ok(slowData.received.some((m) => m.to[0] === m1.envelope.to[0]));
  assert.deepEqual([((await queued) as Error & { code?: string }).code, (await queued).message], ['ECONNECTION', 'Connection pool was closed']);
});

test('STARTTLS: the TLS of the session is on every message it carried', async () => {
  const cache = new TransportCache({ ...base, tls: 'opportunistic' });
  const a = await cache.send(target(tlsPeer.port, 1), msg());
  const b = await cache.send(target(tlsPeer.port, 1), msg());
  for (const i of [a, b]) {
    assert.equal(i.tls?.protocol, 'TLSv1.3');
    assert.match(i.tls!.cipher, /^TLS_(AES|CHACHA20)_/);
  }
  assert.equal(tlsPeer.connections.length, 1);
  await cache.closeAll();
});

test('per-command events: connect, tls and ehlo belong to the message that opened the connection; each message has mail, rcpt, data', async () => {
  const events: SmtpCommandEvent[] = [];
  const opts: TransportCacheOptions = { ...base, tls: 'opportunistic', observer: (e) => events.push(e) };
  const cache = new TransportCache(opts);
  const first = { ...msg(), site: 'first' };
  const second = { ...msg(), site: 'second' };
  await cache.send(target(tlsPeer.port, 1), first);
  await cache.send(target(tlsPeer.port, 1), second);
  const of = (site: string) => events.filter((e) => e.site === site).map((e) => `${e.phase}:${e.command}:${e.code}`);
  assert.deepEqual(of('first'), ['connect:CONNECT:220', 'ehlo:EHLO:250', 'tls:STARTTLS:220', 'ehlo:EHLO:250', 'mail:MAIL FROM:250', 'rcpt:RCPT TO:250', 'data:DATA:250']);
  assert.deepEqual(of('second'), ['mail:MAIL FROM:250', 'rcpt:RCPT TO:250', 'data:DATA:250']);
  for (const e of events) {
    assert.ok(e.ok);
    assert.ok(e.end >= e.start, `${e.phase} ends after it starts`);
    assert.ok(Math.abs(e.start - Date.now()) < 60_000, 'epoch milliseconds');
  }
  assert.equal(events.find((e) => e.phase === 'mail')!.enhancedCode, undefined);
  await cache.closeAll();
});

test('per-command events: a refused recipient has its reply code and enhanced code, and the session is reused', async () => {
  const peer = await startPeer({ rejectRcpt: (a) => (a.startsWith('nobody') ? '550 5.1.1 No such user here' : undefined) });
  try {
    const events: SmtpCommandEvent[] = [];
    const cache = new TransportCache({ ...base, tls: 'none', observer: (e) => events.push(e) });
    await assert.rejects(cache.send(target(peer.port, 1), { ...msg('nobody@example.test'), site: 'rej' }), { code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO' });
    const ok = await cache.send(target(peer.port, 1), { ...msg(), site: 'ok' });
    assert.match(ok.response, /^250 /);
    assert.equal(peer.connections.length, 1, 'RSET, then the same session');
    const rcpt = events.find((e) => e.site === 'rej' && e.phase === 'rcpt')!;
    assert.deepEqual([rcpt.ok, rcpt.code, rcpt.enhancedCode], [false, 550, '5.1.1']);
    await cache.closeAll();
  } finally {
    await peer.close();
  }
});

test('SMTPUTF8 required by the message and not offered: 553 5.6.7 before MAIL FROM; the session stays usable', async () => {
  const peer = await startPeer({ smtputf8: false });
  try {
    const cache = new TransportCache({ ...base, tls: 'none' });
    await assert.rejects(cache.sendRequiringSmtpUtf8(target(peer.port, 1), msg('josé@example.test')), { code: 'EENVELOPE', responseCode: 553, command: 'MAIL FROM' });
    assert.equal(peer.received.length, 0);
    assert.match((await cache.send(target(peer.port, 1), msg())).response, /^250 /);
    assert.equal(peer.connections.length, 1);
    await cache.closeAll();
  } finally {
    await peer.close();
  }
});

test("a message's bytes and its final dot leave in one socket write", async () => {
  const { Socket } = await import('node:net');
  const proto = Socket.prototype as unknown as { _write: (chunk: Buffer, ...a: unknown[]) => void; _writev: (chunks: { chunk: Buffer }[], ...a: unknown[]) => void };
  const { _write, _writev } = proto;
  const writes: Buffer[] = [];
  proto._write = function (this: unknown, chunk: Buffer, ...rest: unknown[]) {
    writes.push(Buffer.from(chunk));
    return _write.call(this, chunk, ...rest);
  };
  proto._writev = function (this: unknown, chunks: { chunk: Buffer }[], ...rest: unknown[]) {
    writes.push(Buffer.concat(chunks.map((c) => Buffer.from(c.chunk))));
    return _writev.call(this, chunks, ...rest);
  };
  const cache = new TransportCache({ ...base, tls: 'none' });
  try {
    const m = msg(undefined, 'the body of the corked message');
    await cache.send(target(smtp.port, 1), m);
  } finally {
    proto._write = _write;
    proto._writev = _writev;
    await cache.closeAll();
  }
  const body = writes.findIndex((w) => w.includes('the body of the corked message'));
  assert.ok(body >= 0, 'the message was written');
  assert.ok(writes[body]!.toString().endsWith('the body of the corked message\r\n.\r\n'), JSON.stringify(writes.map((w) => w.toString().slice(-40))));
});
