import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { parseIpPools } from '@mta/config';
import { domainSignatures, planSignatures } from '../src/dkim-plan.ts';
import type { DkimSignature } from '../src/dkim-sign.ts';
import { stsRecordId } from '../src/mta-sts.ts';
import { chooseSource, fnv1a } from '../src/source-ip.ts';
import { configuredTls, deliveryTls, effectiveTls, parseTlsPolicies } from '../src/tls-policy.ts';

test('MTA_TLS_POLICY parsing: modes, parent patterns, every error reported', () => {
  const ok = parseTlsPolicies(' gmail.com=required , .example.org=disabled,Example.NET=opportunistic ');
  assert.ok(ok.ok);
  assert.deepEqual([...ok.policies.exact], [['gmail.com', 'required'], ['example.net', 'opportunistic']]);
  assert.deepEqual([...ok.policies.subdomains], [['example.org', 'disabled']]);
  const bad = parseTlsPolicies('gmail.com=always,nodomain,bad..x=required,a.test=required,a.test=disabled');
  assert.ok(!bad.ok);
  assert.equal(bad.errors.length, 4, bad.errors.join(' | '));
});

test('TLS mode of a domain (table)', () => {
  const r = parseTlsPolicies('gmail.com=required,.example.org=disabled,deep.example.org=opportunistic,sts-off.test=disabled');
  assert.ok(r.ok);
  const p = r.policies;
  const rows: [string, boolean, string][] = [
    // domain, MTA-STS enforce, expected mode
    ['gmail.com', false, 'required'],
    ['gmail.com', true, 'mta-sts'],
    ['mail.gmail.com', false, 'opportunistic'],
    ['a.example.org', false, 'disabled'],
    ['example.org', false, 'opportunistic'],
    ['deep.example.org', false, 'opportunistic'],
    ['x.deep.example.org', false, 'disabled'],
    ['sts-off.test', true, 'disabled'],
    ['other.test', true, 'mta-sts'],
    ['other.test', false, 'opportunistic'],
  ];
  for (const [domain, sts, want] of rows) assert.equal(effectiveTls(configuredTls(domain, p), 'opportunistic', sts), want, `${domain} sts=${sts}`);
  assert.equal(effectiveTls(configuredTls('x.test', undefined), 'required', false), 'required');
});

test('TLS mode with the shaping rule\'s policy on the delivery (table): it replaces the default, never weakens MTA_TLS_POLICY or MTA-STS enforce', () => {
  const r = parseTlsPolicies('gmail.com=required,broken.test=disabled,plain.test=opportunistic');
  assert.ok(r.ok);
  const rows: [string, 'opportunistic' | 'required' | 'disabled' | undefined, 'opportunistic' | 'required' | 'disabled', boolean, string][] = [
    // domain, Delivery.tls, default (MTA_SMTP_TLS), MTA-STS enforce, expected mode
    ['other.test', undefined, 'opportunistic', false, 'opportunistic'],
    ['other.test', 'required', 'opportunistic', false, 'required'],
    ['other.test', 'disabled', 'opportunistic', false, 'disabled'],
    ['other.test', 'opportunistic', 'required', false, 'opportunistic'], // wins over the default
    ['other.test', 'disabled', 'opportunistic', true, 'mta-sts'], // never weakens MTA-STS enforce
    ['other.test', 'opportunistic', 'opportunistic', true, 'mta-sts'],
    ['gmail.com', 'opportunistic', 'opportunistic', false, 'required'], // never weakens an explicit required
    ['gmail.com', 'disabled', 'opportunistic', false, 'required'],
    ['plain.test', 'required', 'opportunistic', false, 'opportunistic'], // the domain's own entry wins
    ['broken.test', 'required', 'opportunistic', true, 'disabled'], // the operator's escape hatch stays
  ];
  for (const [domain, requested, fallback, sts, want] of rows) assert.equal(deliveryTls(configuredTls(domain, r.policies), requested, fallback, sts), want, `${domain} ${requested} ${fallback} sts=${sts}`);
});

test('source address choice (table)', () => {
  const r = parseIpPools('default=192.0.2.1/a.mta.test,192.0.2.2/b.mta.test,192.0.2.3/c.mta.test;bulk=192.0.2.9/z.mta.test', 'mta.test');
  assert.ok(r.ok);
  const pools = r.pools;
  assert.equal(chooseSource(undefined, { recipientDomain: 'x.test' }), undefined);
  assert.deepEqual(chooseSource(pools, { recipientDomain: 'x.test', ipPool: 'bulk' }), { pool: 'bulk', ip: '192.0.2.9', ehlo: 'z.mta.test' });
  assert.equal(chooseSource(pools, { recipientDomain: 'x.test', ipPool: 'nope' })?.pool, 'default');
  assert.deepEqual(chooseSource(pools, { recipientDomain: 'x.test', sourceIp: '192.0.2.2' }), { pool: 'default', ip: '192.0.2.2', ehlo: 'b.mta.test' });
  // A sourceIp outside the pool is ignored: the domain's own address is used.
  const own = chooseSource(pools, { recipientDomain: 'x.test' });
  assert.deepEqual(chooseSource(pools, { recipientDomain: 'x.test', sourceIp: '192.0.2.9' }), own);
  // Stable per domain, spread over the pool.
  const picks = new Set<string>();
  for (let i = 0; i < 60; i++) {
    const d = `d${i}.test`;
    const a = chooseSource(pools, { recipientDomain: d })!.ip;
    assert.equal(chooseSource(pools, { recipientDomain: d })!.ip, a);
    picks.add(a);
  }
  assert.equal(picks.size, 3);
  assert.equal(fnv1a(''), 0x811c9dc5);
  const noDefault = parseIpPools('bulk=192.0.2.9', 'mta.test');
  assert.ok(noDefault.ok);
  assert.equal(chooseSource(noDefault.pools, { recipientDomain: 'x.test', ipPool: 'other' }), undefined);
});

test('DKIM signature plan: one RSA and one Ed25519 per domain (last selector wins), platform after, no duplicate domain', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
  const ed = generateKeyPairSync('ed25519').privateKey;
  const k = (domain: string, selector: string, type: 'rsa' | 'ed25519'): DkimSignature => ({ domain, selector, type, key: type === 'rsa' ? rsa : ed });
  const own = [k('a.test', 's2026a', 'rsa'), k('a.test', 's2026b', 'rsa'), k('a.test', 'ed1', 'ed25519')];
  assert.deepEqual(domainSignatures(own).map((s) => s.selector), ['s2026b', 'ed1']);
  assert.deepEqual(domainSignatures([k('a.test', 'ed1', 'ed25519')]).map((s) => s.type), ['ed25519']);
  const plan = planSignatures(own, [k('p.test', 'p1', 'rsa')]);
  assert.deepEqual(plan.map((s) => `${s.domain}/${s.selector}`), ['a.test/s2026b', 'a.test/ed1', 'p.test/p1']);
  assert.deepEqual(planSignatures([], [k('p.test', 'p1', 'rsa')]).map((s) => s.domain), ['p.test']);
  assert.deepEqual(planSignatures(own, own).length, 2);
});

test('MTA-STS TXT record id (RFC 8461 §3.1)', () => {
  assert.equal(stsRecordId([['v=STSv1; id=20260101T000000;']]), '20260101T000000');
  assert.equal(stsRecordId([['v=STSv1; ', 'id=abc123']]), 'abc123');
  assert.equal(stsRecordId([['v=spf1 -all'], ['v=STSv1; id=x1']]), 'x1');
  assert.equal(stsRecordId([['v=STSv1; id=a'], ['v=STSv1; id=b']]), undefined, 'two records: no policy');
  assert.equal(stsRecordId([['v=STSv1;']]), undefined, 'no id');
  assert.equal(stsRecordId([]), undefined);
});
