import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verpDecode, verpEncode } from '../src/verp.ts';

test('VERP addresses round-trip any messageId', () => {
  for (const id of ['m-1', 'msg/with+odd=chars@x', 'ünïcode-ид', 'a'.repeat(40)]) {
    const addr = verpEncode(id, 'Bounces.Example.NET');
    assert.match(addr, /^b-[A-Za-z0-9_-]+@bounces\.example\.net$/);
    assert.equal(verpDecode(addr, ['bounces.example.net']), id);
    // An MTA that upper-cases the whole local part corrupts the base64url payload: not ours.
    assert.notEqual(verpDecode(addr.toUpperCase(), ['bounces.example.net']), id);
  }
});

test('VERP decoding rejects what is not ours', () => {
  const addr = verpEncode('m-1', 'bounces.example.net');
  const table: Array<[string, string | undefined]> = [
    [addr, 'm-1'],
    [`<${addr}>`, 'm-1'],
    [addr.replace('bounces.example.net', 'BOUNCES.EXAMPLE.NET'), 'm-1'],
    [addr.replace(/^b-/, 'B-'), 'm-1'],
    [addr.replace('bounces.example.net', 'other.example.net'), undefined],
    [addr.replace(/^b-/, 'x-'), undefined],
    ['b-@bounces.example.net', undefined],
    ['b-!!!@bounces.example.net', undefined],
    ['b-bS0x=@bounces.example.net', undefined],
    ['postmaster@bounces.example.net', undefined],
    ['no-at-sign', undefined],
  ];
  for (const [input, want] of table) assert.equal(verpDecode(input, ['bounces.example.net']), want, input);
});
