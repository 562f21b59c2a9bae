import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { limitsFor, parseLimitRules } from '../src/limits.ts';
import { take } from '../src/token-bucket.ts';
import { Limiter } from '../src/limiter.ts';
import { DEFAULT_RULES_FILE } from '../src/config.ts';

const rulesText = `
defaults: { messagesPerSecond: 100, maxConnections: 10, messagesPerConnection: 100 }
domains:
  gmail.com: { messagesPerSecond: 5, maxConnections: 2 }
  .example.test: { messagesPerSecond: 1 }
  slow.example.test: { messagesPerSecond: 0.5, burst: 3 }
`;

test('limits: exact domain, then longest suffix, then defaults', () => {
  const p = parseLimitRules(rulesText);
  assert.ok(p.ok);
  const rows: [string, number, number, number][] = [
    ['gmail.com', 5, 2, 100],
    ['sub.example.test', 1, 10, 100],
    ['slow.example.test', 0.5, 10, 100],
    ['other.org', 100, 10, 100],
    ['example.test', 100, 10, 100], // ".example.test" is subdomains only
  ];
  for (const [domain, rate, conns, perConn] of rows) {
    const l = limitsFor(domain, p.rules);
    assert.deepEqual([l.messagesPerSecond, l.maxConnections, l.messagesPerConnection], [rate, conns, perConn], domain);
  }
  assert.equal(limitsFor('slow.example.test', p.rules).burst, 3);
  assert.equal(limitsFor('gmail.com', p.rules).burst, 5);
});

test('limits: each bad entry is reported', () => {
  const p = parseLimitRules(`
defaults: { messagesPerSecond: -1 }
domains:
  "bad domain": { messagesPerSecond: 1 }
  ok.example: { maxConections: 3, maxConnections: 1.5 }
extra: 1
`);
  assert.equal(p.ok, false);
  if (p.ok) return;
  assert.deepEqual(p.errors, [
    'unknown top-level key "extra" (expected defaults, domains)',
    'defaults.messagesPerSecond: must be a positive number, got -1',
    'domains."bad domain": not a domain name (write ".example.com" for subdomains)',
    'domains."ok.example".maxConections: unknown knob (expected messagesPerSecond, burst, maxConnections, messagesPerConnection)',
    'domains."ok.example".maxConnections: must be a positive integer, got 1.5',
  ]);
  const y = parseLimitRules('defaults: [');
  assert.equal(y.ok, false);
});

test('the shipped rules file parses', () => {
  const p = parseLimitRules(readFileSync(DEFAULT_RULES_FILE, 'utf8'));
  assert.ok(p.ok, p.ok ? '' : p.errors.join('\n'));
});

test('token bucket: burst, then one token per 1/rate', () => {
  let b = { tokens: 2, updatedAt: 0 };
  const waits: number[] = [];
  for (let i = 0; i < 4; i++) {
    const r = take(b, 0, 4, 2);
    b = r.bucket;
    waits.push(r.waitMs);
  }
  assert.deepEqual(waits, [0, 0, 250, 250]);
  const later = take(b, 250, 4, 2);
  assert.equal(later.waitMs, 0);
});

test('limiter: a limited domain does not delay another domain', async () => {
  const limiter = new Limiter();
  const t0 = Date.now();
  const slow: Promise<void>[] = [];
  for (let i = 0; i < 5; i++) slow.push(limiter.acquire('slow.example', 2, 1)); // 1 now, then 2/s: ~2 s
  const fastDone: number[] = [];
  await Promise.all(
    Array.from({ length: 50 }, () => limiter.acquire('fast.example', 1000, 1000).then(() => fastDone.push(Date.now() - t0))),
  );
  assert.ok(Math.max(...fastDone) < 500, `fast domain waited ${Math.max(...fastDone)} ms behind the slow one`);
  assert.equal(limiter.queued().get('slow.example'), 4);
  await Promise.all(slow);
  const elapsed = Date.now() - t0;
  assert.ok(elapsed >= 1900, `slow domain released 5 messages at 2/s in ${elapsed} ms`);
  assert.equal(limiter.waiting, 0);
});
