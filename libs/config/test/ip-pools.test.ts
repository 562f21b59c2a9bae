import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIpPools } from '../src/ip-pools.ts';

test('IP pools parse with per-address EHLO names and a default', () => {
  const r = parseIpPools(' default=127.0.0.2/MTA1.example.net, 127.0.0.3 ; bulk=127.0.0.3,::1/mta6.example.net', 'mx.example.net');
  assert.ok(r.ok);
  assert.deepEqual([...r.pools.entries()], [
    ['default', [{ ip: '127.0.0.2', ehlo: 'mta1.example.net' }, { ip: '127.0.0.3', ehlo: 'mx.example.net' }]],
    ['bulk', [{ ip: '127.0.0.3', ehlo: 'mx.example.net' }, { ip: '::1', ehlo: 'mta6.example.net' }]],
  ]);
});

test('IP pools report every bad element', () => {
  const table: Array<[string, RegExp]> = [
    ['', /no pool given/],
    ['default', /expected pool=ip/],
    ['default=300.1.1.1', /"300.1.1.1" is not an IP address/],
    ['default=127.0.0.2/localhost', /not a fully qualified host name/],
    ['default=127.0.0.2,127.0.0.2', /listed twice/],
    ['a=127.0.0.2;a=127.0.0.3', /defined twice/],
    ['a=127.0.0.2/x.example.net;b=127.0.0.2/y.example.net', /two EHLO names/],
    ['bad name=127.0.0.2', /pool name/],
    ['a=,127.0.0.2', /empty address/],
  ];
  for (const [raw, want] of table) {
    const r = parseIpPools(raw, 'mx.example.net');
    assert.equal(r.ok, false, raw);
    if (!r.ok) assert.match(r.errors.join('; '), want, raw);
  }
  const many = parseIpPools('a=1.1.1.1.1,b;c=2.2.2.2/x', 'mx.example.net');
  assert.ok(!many.ok && many.errors.length >= 3, 'all errors at once');
});
