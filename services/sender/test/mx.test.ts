import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMxLookup, type DnsResolverLike } from '../src/mx.ts';
import type { AddressRecord, MxRecord } from '../src/mx-decide.ts';

/** A fake resolver over plain data: a value is the answer, a string is the error code. */
type Zone = Record<string, { mx?: MxRecord[] | string; a?: AddressRecord[] | string; aaaa?: AddressRecord[] | string }>;

function fakeResolver(zone: Zone) {
  const calls: string[] = [];
  const answer = <T>(name: string, type: 'mx' | 'a' | 'aaaa'): Promise<T[]> => {
    calls.push(`${type} ${name}`);
    const entry = zone[name];
    if (!entry) return Promise.reject(Object.assign(new Error('nx'), { code: 'ENOTFOUND' }));
    const v = entry[type];
    if (v === undefined) return Promise.reject(Object.assign(new Error('nodata'), { code: 'ENODATA' }));
    if (typeof v === 'string') return Promise.reject(Object.assign(new Error(v), { code: v }));
    return Promise.resolve(v as T[]);
  };
  const resolver: DnsResolverLike = {
    resolveMx: (n) => answer(n, 'mx'),
    resolve4: (n) => answer(n, 'a'),
    resolve6: (n) => answer(n, 'aaaa'),
  };
  return { resolver, calls };
}

test('MX answers are cached for mxTtlMs (node gives no MX TTL), with an injected clock', async () => {
  const { resolver, calls } = fakeResolver({ 'd.test': { mx: [{ exchange: 'mx.d.test', priority: 5 }] } });
  let t = 1_000_000;
  const lookup = createMxLookup({ resolver, now: () => t, mxTtlMs: 300_000 });
  const r1 = await lookup.mx('d.test');
  assert.ok(r1.ok && r1.site === 'mx.d.test' && r1.via === 'mx');
  t += 299_999;
  await lookup.mx('d.test');
  assert.equal(calls.filter((c) => c === 'mx d.test').length, 1);
  t += 2;
  await lookup.mx('d.test');
  assert.equal(calls.filter((c) => c === 'mx d.test').length, 2);
});

test('address answers honour their TTL (the smallest one)', async () => {
  const { resolver, calls } = fakeResolver({ 'mx.d.test': { a: [{ address: '192.0.2.1', ttl: 30 }, { address: '192.0.2.2', ttl: 10 }] } });
  let t = 0;
  const lookup = createMxLookup({ resolver, now: () => t });
  const a = await lookup.addresses('mx.d.test');
  assert.deepEqual(a, { ok: true, addresses: ['192.0.2.1', '192.0.2.2'], ttl: 10 });
  t = 9_999;
  await lookup.addresses('mx.d.test');
  assert.equal(calls.filter((c) => c === 'a mx.d.test').length, 1);
  t = 10_000;
  await lookup.addresses('mx.d.test');
  assert.equal(calls.filter((c) => c === 'a mx.d.test').length, 2);
});

test('concurrent lookups of one name share one query', async () => {
  const { resolver, calls } = fakeResolver({ 'd.test': { mx: [{ exchange: 'mx.d.test', priority: 5 }] } });
  const lookup = createMxLookup({ resolver });
  const all = await Promise.all(Array.from({ length: 100 }, () => lookup.mx('d.test')));
  assert.ok(all.every((r) => r.ok));
  assert.equal(calls.length, 1);
});

test('implicit MX uses the domain A/AAAA and seeds the address cache', async () => {
  const { resolver, calls } = fakeResolver({ 'd.test': { a: [{ address: '192.0.2.9', ttl: 60 }] } });
  const lookup = createMxLookup({ resolver });
  const r = await lookup.mx('d.test');
  assert.deepEqual(r, { ok: true, via: 'implicit-mx', hosts: [{ name: 'd.test', preference: 0 }], site: 'd.test' });
  const a = await lookup.addresses('d.test');
  assert.ok(a.ok && a.addresses[0] === '192.0.2.9');
  assert.deepEqual(calls.sort(), ['a d.test', 'aaaa d.test', 'mx d.test']);
});

test('failures are values, cached for their own TTLs', async () => {
  const { resolver, calls } = fakeResolver({
    'null.test': { mx: [{ exchange: '', priority: 0 }] },
    'sf.test': { mx: 'ESERVFAIL' },
    'boom.test': { mx: 'EWEIRD' },
  });
  let t = 0;
  const lookup = createMxLookup({ resolver, now: () => t, negativeTtlMs: 60_000, errorTtlMs: 5_000 });
  const nul = await lookup.mx('null.test');
  assert.ok(!nul.ok && nul.kind === 'null-mx' && nul.permanent);
  const nx = await lookup.mx('nx.test');
  assert.ok(!nx.ok && nx.kind === 'nxdomain' && nx.permanent);
  const sf = await lookup.mx('sf.test');
  assert.ok(!sf.ok && sf.kind === 'servfail' && !sf.permanent);
  const weird = await lookup.mx('boom.test');
  assert.ok(!weird.ok && !weird.permanent);
  t = 5_000;
  await lookup.mx('sf.test');
  await lookup.mx('nx.test');
  assert.equal(calls.filter((c) => c === 'mx sf.test').length, 2, 'transient failure re-asked after errorTtlMs');
  assert.equal(calls.filter((c) => c === 'mx nx.test').length, 1, 'NXDOMAIN still cached');
});

test('a resolver that throws synchronously is a transient failure, not an exception', async () => {
  const resolver: DnsResolverLike = {
    resolveMx: () => {
      throw Object.assign(new Error('bad'), { code: 'ERR_INVALID_ARG_VALUE' });
    },
    resolve4: () => Promise.resolve([]),
    resolve6: () => Promise.resolve([]),
  };
  const r = await createMxLookup({ resolver }).mx('d.test');
  assert.ok(!r.ok && !r.permanent);
});
