import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { SMTPPoolOptions } from 'nodemailer';
import { TransportCache, type TransportCacheOptions } from '../src/transports.ts';

/** A stand-in transporter recording the options it was built with. */
function fakeFactory() {
  const made: { options: SMTPPoolOptions; closed: number }[] = [];
  const create = ((options: SMTPPoolOptions) => {
    const rec = { options, closed: 0 };
    made.push(rec);
    const pool = { pendingCount: () => 0, close: () => void rec.closed++ };
    return Object.assign(new EventEmitter(), {
      transporter: pool,
      sendMail: async () => ({ response: '250 ok', messageId: '<x>', envelope: { from: '', to: [] }, accepted: [], rejected: [], pending: [] }),
      close: () => void rec.closed++,
    });
  }) as unknown as NonNullable<TransportCacheOptions['create']>;
  return { made, create };
}

const base = { ehloName: 'mta.test', connectionTimeoutMs: 1000, greetingTimeoutMs: 1000, socketTimeoutMs: 5000 };
const target = (host: string, maxConnections = 2) => ({ host, port: 25, maxConnections, maxMessages: 50 });

test('one transport per host:port and limits, reused across messages', async () => {
  const { made, create } = fakeFactory();
  const cache = new TransportCache({ ...base, tls: 'opportunistic', create });
  for (let i = 0; i < 10; i++) await cache.send(target('192.0.2.1'), { raw: 'x' });
  await cache.send(target('192.0.2.2'), { raw: 'x' });
  await cache.send(target('192.0.2.1', 5), { raw: 'x' });
  assert.equal(made.length, 3);
  assert.equal(cache.size, 3);
  const o = made[0]!.options as SMTPPoolOptions & { opportunisticTLS?: boolean };
  assert.equal(o.pool, true);
  assert.equal(o.host, '192.0.2.1');
  assert.equal(o.maxConnections, 2);
  assert.equal(o.maxMessages, 50);
  assert.equal(o.name, 'mta.test');
  assert.equal(o.secure, false);
  assert.equal(o.ignoreTLS, false);
  assert.equal(o.opportunisticTLS, true);
  assert.deepEqual(o.tls, { rejectUnauthorized: false });
  assert.equal(o.connectionTimeout, 1000);
  assert.equal(o.greetingTimeout, 1000);
  assert.equal(o.socketTimeout, 5000);
  await cache.closeAll();
});

test('tls none ignores STARTTLS and sets no tls options', async () => {
  const { made, create } = fakeFactory();
  const cache = new TransportCache({ ...base, tls: 'none', create });
  await cache.send(target('192.0.2.1'), { raw: 'x' });
  assert.equal(made[0]!.options.ignoreTLS, true);
  assert.equal(made[0]!.options.tls, undefined);
  await cache.closeAll();
});

test('idle transports are closed by the sweep; closeAll closes the rest and refuses new sends', async () => {
  const { made, create } = fakeFactory();
  let t = 0;
  const cache = new TransportCache({ ...base, tls: 'none', create, idleCloseMs: 60_000, now: () => t });
  await cache.send(target('192.0.2.1'), { raw: 'x' });
  t = 30_000;
  await cache.send(target('192.0.2.2'), { raw: 'x' });
  t = 60_000;
  cache.sweep();
  assert.equal(cache.size, 1);
  assert.equal(made[0]!.closed, 1);
  assert.equal(made[1]!.closed, 0);
  await cache.closeAll();
  assert.equal(cache.size, 0);
  assert.equal(made[1]!.closed, 1);
  await assert.rejects(cache.send(target('192.0.2.1'), { raw: 'x' }), { code: 'ECONNECTION' });
});

test('TLS modes, source address and EHLO name map to nodemailer options; each gets its own pool', async () => {
  const { made, create } = fakeFactory();
  const cache = new TransportCache({ ...base, tls: 'opportunistic', ca: 'CA-PEM', create });
  const rows = [
    { tls: 'opportunistic', ignoreTLS: false, requireTLS: false, opportunisticTLS: true, rejectUnauthorized: false },
    { tls: 'required', ignoreTLS: false, requireTLS: true, opportunisticTLS: false, rejectUnauthorized: false },
    { tls: 'mta-sts', ignoreTLS: false, requireTLS: true, opportunisticTLS: false, rejectUnauthorized: true },
    { tls: 'disabled', ignoreTLS: true, requireTLS: false, opportunisticTLS: false, rejectUnauthorized: undefined },
  ] as const;
  for (const r of rows) {
    await cache.send({ ...target('192.0.2.1'), tls: r.tls, servername: 'mx.example.test', localAddress: '198.51.100.7', ehloName: 'out7.mta.test' }, { raw: 'x' });
    const o = made.at(-1)!.options as SMTPPoolOptions & { opportunisticTLS?: boolean };
    assert.deepEqual(
      [o.ignoreTLS, o.requireTLS, o.opportunisticTLS, (o.tls as { rejectUnauthorized?: boolean } | undefined)?.rejectUnauthorized],
      [r.ignoreTLS, r.requireTLS, r.opportunisticTLS, r.rejectUnauthorized],
      r.tls,
    );
    assert.equal(o.localAddress, '198.51.100.7');
    assert.equal(o.name, 'out7.mta.test');
    if (r.tls === 'mta-sts') assert.deepEqual(o.tls, { rejectUnauthorized: true, servername: 'mx.example.test', ca: 'CA-PEM' });
  }
  assert.equal(made.length, 4, 'one pool per TLS mode');
  await cache.send({ ...target('192.0.2.1'), tls: 'required', servername: 'mx.example.test', localAddress: '198.51.100.8' }, { raw: 'x' });
  assert.equal(made.length, 5, 'one pool per source address');
  assert.equal(made.at(-1)!.options.name, 'mta.test', 'default EHLO name without a pool address');
  await cache.closeAll();
});
