import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as dns } from 'node:dns';
import nodemailer, { type Transporter } from 'nodemailer';
import { bucketDepth, defaultProfiles, startIspSim, startProvider, timeScaled, type ProviderProfile } from '../src/index.ts';

const outcome = async (t: Transporter, to: string): Promise<string> => {
  try {
    const info = await t.sendMail({ from: 'news@brand.example', to, subject: 's', text: 'x' });
    return String(info.response).slice(0, 3);
  } catch (err) {
    return String((err as { response?: string }).response ?? (err as Error).message);
  }
};

function profile(patch: Partial<ProviderProfile['limits']>, extra: Partial<ProviderProfile> = {}): ProviderProfile {
  const base = defaultProfiles()[0]!;
  return { ...base, ip: '127.0.0.21', limits: { ...base.limits, ...patch }, ...extra };
}

test('isp-sim: DNS answers MX and A of every provider', async () => {
  const sim = await startIspSim();
  try {
    const r = new dns.Resolver();
    r.setServers([sim.dnsServer]);
    const rows: [string, string, string][] = [
      ['gmail.com', 'gmail-smtp-in.l.google.com', '127.0.0.11'],
      ['hotmail.com', 'outlook-com.olc.protection.outlook.com', '127.0.0.12'],
      ['aol.com', 'mta5.am0.yahoodns.net', '127.0.0.13'],
      ['icloud.com', 'mx01.mail.icloud.com', '127.0.0.14'],
      ['web.de', 'mx00.gmx.net', '127.0.0.15'],
    ];
    for (const [domain, mx, ip] of rows) {
      assert.deepEqual((await r.resolveMx(domain)).map((m) => m.exchange), [mx], domain);
      assert.deepEqual(await r.resolve4(mx), [ip], mx);
    }
  } finally {
    await sim.close();
  }
});

test('isp-sim: rate per sending IP answered with the provider text, then a temporary block after repeated abuse', async () => {
  let now = 1_000_000;
  const p = await startProvider(profile({ messagesPerSecond: 1, burstS: 3 }, { abuseDeferrals: 3, abuseWindowS: 60, blockS: 30 }), 25250, () => now);
  const t = nodemailer.createTransport({ host: '127.0.0.21', port: p.port, ignoreTLS: true, secure: false });
  try {
    const got: string[] = [];
    for (let i = 0; i < 6; i++) got.push(await outcome(t, `u${i}@gmail.com`));
    assert.deepEqual(got.slice(0, 3), ['250', '250', '250']);
    assert.match(got[3]!, /^421.*4\.7\.28 \[127\.0\.0\.1\] Our system has detected an unusual rate/);
    assert.equal(p.stats.deferred.rate, 3);
    assert.equal(p.stats.blocks, 1); // the third deferral blocked the IP
    now += 10_000; // tokens are back, the block is not over
    assert.match(await outcome(t, 'later@gmail.com'), /^421.*unusual rate/);
    assert.equal(p.stats.deferred.block, 1);
    now += 30_000;
    assert.equal(await outcome(t, 'after@gmail.com'), '250');
    assert.equal(p.stats.delivered, 4);
  } finally {
    t.close();
    await p.close();
  }
});

test('isp-sim: connections and messages per connection per sending IP', async () => {
  const p = await startProvider(profile({ maxConnections: 1, messagesPerConnection: 2, messagesPerSecond: 1000, burstS: 1 }), 25251);
  try {
    const pooled = nodemailer.createTransport({ pool: true, maxConnections: 1, maxMessages: 10, host: '127.0.0.21', port: p.port, ignoreTLS: true, secure: false });
    const got = [];
    for (let i = 0; i < 3; i++) got.push(await outcome(pooled, `p${i}@gmail.com`));
    // The third MAIL on the connection is deferred (421 closes it); nodemailer's pool re-sends
    // a message refused on a reused connection over a fresh one, where it is accepted.
    assert.deepEqual(got, ['250', '250', '250']);
    assert.equal(p.stats.connections, 2);
    pooled.close();
    // two connections at once: the second is over the limit
    const a = nodemailer.createTransport({ pool: true, maxConnections: 1, host: '127.0.0.21', port: p.port, ignoreTLS: true, secure: false });
    const b = nodemailer.createTransport({ pool: true, maxConnections: 1, host: '127.0.0.21', port: p.port, ignoreTLS: true, secure: false });
    assert.equal(await outcome(a, 'a@gmail.com'), '250');
    assert.match(await outcome(b, 'b@gmail.com'), /^421 4\.7\.0 Try again later, closing connection/);
    a.close();
    b.close();
    assert.equal(p.stats.deferred.connections, 1);
    assert.equal(p.stats.deferred.perConnection, 1);
  } finally {
    await p.close();
  }
});

test('isp-sim: unknown users, full mailboxes (first try), greylisting (until greylistS passed)', async () => {
  let now = 5_000_000;
  const p = await startProvider(profile({ messagesPerSecond: 1000, burstS: 1 }, { greylistS: 60 }), 25252, () => now);
  const t = nodemailer.createTransport({ host: '127.0.0.21', port: p.port, ignoreTLS: true, secure: false });
  try {
    assert.match(await outcome(t, 'unknown-1@gmail.com'), /^550.*5\.1\.1 The email account that you tried to reach does not exist/);
    assert.match(await outcome(t, 'full-1@gmail.com'), /^452.*4\.2\.2/);
    assert.equal(await outcome(t, 'full-1@gmail.com'), '250');
    assert.match(await outcome(t, 'grey-1@gmail.com'), /^451.*Greylisted/);
    now += 30_000;
    assert.match(await outcome(t, 'grey-1@gmail.com'), /^451.*Greylisted/);
    now += 31_000;
    assert.equal(await outcome(t, 'grey-1@gmail.com'), '250');
    assert.deepEqual([p.stats.unknownUser, p.stats.deferred.mailboxFull, p.stats.deferred.greylist, p.stats.delivered], [1, 1, 2, 2]);
  } finally {
    t.close();
    await p.close();
  }
});

test('isp-sim: theoretical minimum is the slowest provider at its limits', async () => {
  const counts = new Map([
    ['google', { normal: 630, grey: 0, full: 0, unknown: 10 }], // (630 - 30 burst) / 30 = 20 s
    ['apple', { normal: 110, grey: 0, full: 0, unknown: 0 }], // (110 - 10) / 10 = 10 s
  ]);
  const sim = await startIspSim();
  try {
    assert.equal(sim.theoreticalMinSeconds(counts), 20);
    assert.equal(sim.theoreticalMinSeconds(counts, 2), 9.5); // two sending IPs: (630 - 60) / 60
  } finally {
    await sim.close();
  }
  // Time compressed 30×: greylisting 60 s → 2 s; the buckets keep their depth.
  const fast = await startIspSim({ timeScale: 30 });
  try {
    assert.equal(fast.theoreticalMinSeconds(counts), 20);
    // Greylisting bounds a small campaign; full mailboxes and greylisted recipients take two tokens.
    assert.equal(fast.theoreticalMinSeconds(new Map([['google', { normal: 10, grey: 1, full: 0, unknown: 0 }]])), 2);
    assert.equal(fast.theoreticalMinSeconds(new Map([['google', { normal: 89, grey: 0, full: 1, unknown: 5 }]])), (91 - 30) / 30);
    // Apple: 5 messages per connection, 4 connections/s (bucket of 2 s: 8): 400 recipients need
    // 80 connections, (80 - 8) / 4 = 18 s, above the message bound (400 - 100) / 100.
    const apple = { ...defaultProfiles()[3]!, limits: { ...defaultProfiles()[3]!.limits, messagesPerSecond: 100 } };
    const conn = await startIspSim({ profiles: [apple], timeScale: 30 });
    try {
      assert.equal(conn.theoreticalMinSeconds(new Map([['apple', { normal: 400, grey: 0, full: 0, unknown: 0 }]])), (80 - 8) / 4);
    } finally {
      await conn.close();
    }
  } finally {
    await fast.close();
  }
});

test('isp-sim: time compression divides the providers\' memories (abuse window, block, greylisting), never a rate, a count or a bucket', () => {
  const p = defaultProfiles()[4]!;
  const k = timeScaled(p, 30);
  assert.deepEqual([k.abuseWindowS, k.blockS, k.greylistS], [p.abuseWindowS / 30, p.blockS / 30, p.greylistS / 30]);
  assert.deepEqual([k.abuseWindowS, k.blockS, k.greylistS], [10, 15, 2]);
  assert.deepEqual(k.limits, p.limits);
  assert.equal(k.abuseDeferrals, p.abuseDeferrals);
  assert.deepEqual(timeScaled(p, 1), p);
  assert.throws(() => timeScaled(p, 0));
  // Bucket depth in tokens: rate × seconds, never below one.
  assert.deepEqual([bucketDepth(15, 1), bucketDepth(0.5, 1), bucketDepth(4, 2)], [15, 1, 8]);
});
