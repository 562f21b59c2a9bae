import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decideAddresses,
  decideImplicit,
  decideMx,
  rotateEqualPreference,
  type AddressRecord,
  type DnsAnswer,
  type MxRecord,
} from '../src/mx-decide.ts';

const mx = (...records: [string, number][]): DnsAnswer<MxRecord> => ({ ok: true, records: records.map(([exchange, priority]) => ({ exchange, priority })) });
const err = <T>(code: string): DnsAnswer<T> => ({ ok: false, code });
const addrs = (...a: string[]): DnsAnswer<AddressRecord> => ({ ok: true, records: a.map((address, i) => ({ address, ttl: 60 + i })) });

test('decideMx table', () => {
  const cases: [string, DnsAnswer<MxRecord>, unknown][] = [
    ['preference order, ties by name, site sorted', mx(['mx3.d.test', 20], ['MX2.d.test.', 10], ['mx1.d.test', 10]), {
      ok: true,
      via: 'mx',
      hosts: [{ name: 'mx1.d.test', preference: 10 }, { name: 'mx2.d.test', preference: 10 }, { name: 'mx3.d.test', preference: 20 }],
      site: 'mx1.d.test,mx2.d.test,mx3.d.test',
    }],
    ['null MX (exchange "")', mx(['', 0]), { ok: false, kind: 'null-mx', permanent: true }],
    ['null MX (exchange ".")', mx(['.', 0]), { ok: false, kind: 'null-mx', permanent: true }],
    ['null MX mixed with a real one is ignored', mx(['', 0], ['mx.d.test', 10]), { ok: true, site: 'mx.d.test' }],
    ['no MX records (NODATA) -> implicit', err('ENODATA'), 'implicit'],
    ['empty answer -> implicit', mx(), 'implicit'],
    ['NXDOMAIN -> permanent', err('ENOTFOUND'), { ok: false, kind: 'nxdomain', permanent: true, dnsCode: 'ENOTFOUND' }],
    ['SERVFAIL -> transient', err('ESERVFAIL'), { ok: false, kind: 'servfail', permanent: false, dnsCode: 'ESERVFAIL' }],
    ['timeout -> transient', err('ETIMEOUT'), { ok: false, kind: 'servfail', permanent: false, dnsCode: 'ETIMEOUT' }],
    ['resolver unreachable -> transient', err('ECONNREFUSED'), { ok: false, permanent: false, dnsCode: 'ECONNREFUSED' }],
    ['REFUSED -> transient', err('EREFUSED'), { ok: false, permanent: false }],
  ];
  for (const [name, answer, expected] of cases) {
    const got = decideMx('d.test', answer);
    if (typeof expected === 'string' || typeof got === 'string') assert.equal(got, expected, name);
    else for (const [k, v] of Object.entries(expected as object)) assert.deepEqual((got as unknown as Record<string, unknown>)[k], v, `${name}: ${k}`);
  }
});

test('decide messages say which failure', () => {
  const msg = (a: DnsAnswer<MxRecord>) => {
    const r = decideMx('d.test', a);
    return typeof r === 'string' || r.ok ? '' : r.message;
  };
  assert.match(msg(mx(['', 0])), /d\.test.*null MX.*RFC 7505/);
  assert.match(msg(err('ENOTFOUND')), /d\.test does not exist \(NXDOMAIN\)/);
  assert.match(msg(err('ESERVFAIL')), /temporary DNS failure \(SERVFAIL\).*MX of d\.test/);
  assert.match(msg(err('ETIMEOUT')), /temporary DNS failure \(timeout\)/);
});

test('decideImplicit table', () => {
  const cases: [string, DnsAnswer<AddressRecord>, DnsAnswer<AddressRecord>, Record<string, unknown>][] = [
    ['A only', addrs('192.0.2.1'), err('ENODATA'), { ok: true, via: 'implicit-mx', site: 'd.test', hosts: [{ name: 'd.test', preference: 0 }] }],
    ['AAAA only', err('ENODATA'), addrs('2001:db8::1'), { ok: true, via: 'implicit-mx' }],
    ['A fails transiently, AAAA answers', err('ETIMEOUT'), addrs('2001:db8::1'), { ok: true }],
    ['neither', err('ENODATA'), err('ENODATA'), { ok: false, kind: 'no-mail-host', permanent: true }],
    ['vanished', err('ENOTFOUND'), err('ENOTFOUND'), { ok: false, kind: 'nxdomain', permanent: true }],
    ['SERVFAIL on A', err('ESERVFAIL'), err('ENODATA'), { ok: false, kind: 'servfail', permanent: false }],
  ];
  for (const [name, a, aaaa, expected] of cases) {
    const got = decideImplicit('d.test', a, aaaa) as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(expected)) assert.deepEqual(got[k], v, `${name}: ${k}`);
  }
});

test('decideAddresses table', () => {
  assert.deepEqual(decideAddresses('h', addrs('192.0.2.1', '192.0.2.2'), addrs('2001:db8::1')), {
    ok: true,
    addresses: ['192.0.2.1', '192.0.2.2', '2001:db8::1'],
    ttl: 60,
  });
  const none = decideAddresses('h', err('ENODATA'), err('ENODATA'));
  assert.equal(none.ok, false);
  if (!none.ok) {
    assert.equal(none.kind, 'no-address');
    assert.equal(none.permanent, false, 'an MX host without address is the domain operator\'s transient problem');
    assert.match(none.message, /mail host h has no A\/AAAA record/);
  }
  const gone = decideAddresses('h', err('ENOTFOUND'), err('ENOTFOUND'));
  assert.ok(!gone.ok && /does not exist/.test(gone.message));
  const sf = decideAddresses('h', err('ESERVFAIL'), err('ENODATA'));
  assert.ok(!sf.ok && sf.kind === 'servfail' && !sf.permanent);
});

test('rotateEqualPreference spreads equal hosts and keeps lower preferences first', () => {
  const hosts = [
    { name: 'a', preference: 10 },
    { name: 'b', preference: 10 },
    { name: 'c', preference: 10 },
    { name: 'z', preference: 20 },
  ];
  const names = (n: number) => rotateEqualPreference(hosts, n).map((h) => h.name).join('');
  assert.equal(names(0), 'abcz');
  assert.equal(names(1), 'bcaz');
  assert.equal(names(2), 'cabz');
  assert.equal(names(3), 'abcz');
});
