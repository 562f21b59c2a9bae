/**
 * The SMTP adapter on a real socket (in-process, no Kafka): `accept` is the injected dependency
 * that stands for "produced to Kafka". Refusals, limits and garbage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import nodemailer from 'nodemailer';
import { startBounceListener, type BounceListenerOptions } from '../src/listener/smtp.ts';
import { postfixDsn } from './support/reports.ts';

const quiet = { warn() {}, info() {}, error() {} };

async function listener(over: Partial<BounceListenerOptions> = {}) {
  const accepted: { raw: Buffer; rcptTo: string[] }[] = [];
  const l = await startBounceListener({
    host: '127.0.0.1',
    port: 0,
    domains: ['bounces.test'],
    maxBytes: 20000,
    maxConnectionsPerClient: 2,
    maxMessagesPerConnection: 2,
    maxClients: 50,
    log: quiet,
    async accept(raw, env) {
      accepted.push({ raw, rcptTo: env.rcptTo });
    },
    ...over,
  });
  return { ...l, accepted };
}

const dsn = postfixDsn([['a@example.net', '5.1.1', '550 5.1.1 User unknown']], { to: 'a@example.net' });

function transport(port: number, extra: object = {}) {
  return nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, ...extra });
}

/** Talks raw SMTP: sends each line after the previous reply, returns all replies. */
async function dialogue(port: number, lines: string[]): Promise<string[]> {
  const sock: Socket = connect(port, '127.0.0.1');
  const replies: string[] = [];
  let buf = '';
  let waiting: (() => void) | undefined;
  sock.on('data', (d) => {
    buf += d.toString();
    // A complete reply ends with a line `NNN text` (no dash after the code).
    if (/(^|\r\n)\d{3} [^\r\n]*\r\n$/.test(buf)) {
      replies.push(buf.trim());
      buf = '';
      waiting?.();
    }
  });
  const next = () => new Promise<void>((r) => (waiting = r));
  await next(); // greeting
  for (const line of lines) {
    sock.write(line + '\r\n');
    await Promise.race([next(), new Promise((r) => sock.once('close', r))]);
  }
  sock.destroy();
  return replies;
}

test('accepts a report for a bounce domain and hands over the exact bytes', async () => {
  const l = await listener();
  try {
    const info = await transport(l.port).sendMail({ envelope: { from: '', to: ['b-abc@bounces.test'] }, raw: dsn });
    assert.match(info.response, /^250 /);
    assert.equal(l.accepted.length, 1);
    assert.deepEqual(l.accepted[0]!.rcptTo, ['b-abc@bounces.test']);
    assert.match(l.accepted[0]!.raw.toString(), /Final-Recipient: rfc822; a@example\.net/);
  } finally {
    await l.close();
  }
});

test('refuses relaying: RCPT TO another domain gets 550 5.7.1', async () => {
  const l = await listener();
  try {
    const replies = await dialogue(l.port, ['EHLO client.example', 'MAIL FROM:<>', 'RCPT TO:<victim@example.com>', 'RCPT TO:<x@sub.bounces.test>', 'RCPT TO:<b-abc@BOUNCES.TEST>', 'QUIT']);
    assert.match(replies[3]!, /^550 5\.7\.1 Relay denied/);
    assert.match(replies[4]!, /^550 5\.7\.1 Relay denied/, 'a subdomain is another domain');
    assert.match(replies[5]!, /^250 /, 'domains compare case-insensitively');
    assert.equal(l.accepted.length, 0);
  } finally {
    await l.close();
  }
});

test('refuses oversized mail with 552 and keeps nothing', async () => {
  const l = await listener();
  try {
    await assert.rejects(transport(l.port).sendMail({ envelope: { from: '', to: ['b-abc@bounces.test'] }, raw: dsn + 'x'.repeat(30000) }), (e: Error & { responseCode?: number }) => e.responseCode === 552);
    assert.equal(l.accepted.length, 0);
  } finally {
    await l.close();
  }
});

test('garbage commands get 5xx replies, not a crash', async () => {
  const l = await listener();
  try {
    const replies = await dialogue(l.port, ['\u0001\u0002garbage', 'EHLO client.example', 'DATA', 'RCPT TO:<b-abc@bounces.test>', 'QUIT']);
    assert.match(replies[1]!, /^5\d\d /, 'unknown command');
    assert.match(replies[3]!, /^503 /, 'DATA before MAIL/RCPT');
    assert.match(replies[4]!, /^503 /, 'RCPT before MAIL');
    assert.equal(l.accepted.length, 0);
  } finally {
    await l.close();
  }
});

test('when the report cannot be stored the client is told to retry (451), never 250', async () => {
  const l = await listener({
    accept: async () => {
      throw new Error('Kafka unavailable');
    },
  });
  try {
    await assert.rejects(transport(l.port).sendMail({ envelope: { from: '', to: ['b-abc@bounces.test'] }, raw: dsn }), (e: Error & { responseCode?: number; response?: string }) => {
      assert.equal(e.responseCode, 451);
      assert.match(e.response ?? '', /4\.3\.0/);
      return true;
    });
  } finally {
    await l.close();
  }
});

test('per-client limits: connections per IP and messages per connection', async () => {
  const l = await listener();
  const socks: Socket[] = [];
  try {
    // Two connections held open: the third from the same address is turned away.
    for (let i = 0; i < 2; i++) {
      const s = connect(l.port, '127.0.0.1');
      await new Promise((r) => s.once('data', r));
      socks.push(s);
    }
    const replies = await dialogue(l.port, []);
    assert.match(replies[0]!, /^421 .*Too many connections/);
    for (const s of socks) s.destroy();
    await new Promise((r) => setTimeout(r, 100));

    const pooled = transport(l.port, { pool: true, maxConnections: 1, maxMessages: 10 });
    const send = () => pooled.sendMail({ envelope: { from: '', to: ['b-abc@bounces.test'] }, raw: dsn });
    await send();
    await send();
    await assert.rejects(send(), (e: Error & { responseCode?: number }) => e.responseCode === 421);
    pooled.close();
    assert.equal(l.accepted.length, 2);
  } finally {
    for (const s of socks) s.destroy();
    await l.close();
  }
});
