import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRoutes, parseTarget, routeFor, hostPort, type Routes } from '../src/routes.ts';

function routes(text: string): Routes {
  const p = parseRoutes(text);
  if (!p.ok) throw new Error(p.errors.join('; '));
  return p.routes;
}

test('parseRoutes: valid tables', () => {
  const cases: [string, { pattern: string; kind: string; host: string; port: number }[]][] = [
    ['', []],
    ['example.test=127.0.0.1:2525,*=127.0.0.1:2526', [
      { pattern: 'example.test', kind: 'exact', host: '127.0.0.1', port: 2525 },
      { pattern: '*', kind: 'default', host: '127.0.0.1', port: 2526 },
    ]],
    ['Example.TEST.=[::1]:25', [{ pattern: 'example.test', kind: 'exact', host: '::1', port: 25 }]],
    ['.example.test=relay.example.net', [{ pattern: '.example.test', kind: 'subdomains', host: 'relay.example.net', port: 25 }]],
    ['a.test=[relay.example.net]', [{ pattern: 'a.test', kind: 'exact', host: 'relay.example.net', port: 25 }]],
    ['a.test=[10.0.0.1]:587', [{ pattern: 'a.test', kind: 'exact', host: '10.0.0.1', port: 587 }]],
    [' a.test = Relay.Example.Net:2525 , ', [{ pattern: 'a.test', kind: 'exact', host: 'relay.example.net', port: 2525 }]],
    ['a.test=[2001:db8::1]:2525', [{ pattern: 'a.test', kind: 'exact', host: '2001:db8::1', port: 2525 }]],
  ];
  for (const [text, expected] of cases) {
    const p = parseRoutes(text);
    assert.ok(p.ok, `${text}: ${p.ok ? '' : p.errors.join('; ')}`);
    assert.deepEqual(p.routes.list, expected, text);
  }
});

test('parseRoutes: every bad element gets its own specific error', () => {
  const cases: [string, RegExp[]][] = [
    ['example.test', [/route 1 "example.test": expected domain=host\[:port\]/]],
    ['a.test=::1:25', [/IPv6 address must be written in brackets/]],
    ['a.test=host:0', [/port 0 .* out of range/]],
    ['a.test=host:99999', [/port 99999 .* out of range/]],
    ['a.test=host:x', [/port "x" .* not a number/]],
    ['a.test=', [/empty target/]],
    ['=host:25', [/empty domain pattern/]],
    ['*.a.test=h:25', [/write "\.a\.test" for its subdomains/]],
    ['a..test=h:25', [/not a valid domain/]],
    ['-a.test=h:25', [/not a valid domain/]],
    ['a.test=[::1', [/"\[" without "\]"/]],
    ['a.test=[::1]x', [/unexpected "x" after "\]"/]],
    ['a.test=bad host', [/neither an IP address nor a host name/]],
    ['a.test=h:25,a.test=h:26', [/route 2 .*already routed/]],
    ['ok.test=h:25,bad,x.test=::1,*=h:1,*=h:2', [/route 2 "bad"/, /route 3 "x.test=::1"/, /route 5 "\*=h:2".*already routed/]],
  ];
  for (const [text, expected] of cases) {
    const p = parseRoutes(text);
    assert.equal(p.ok, false, text);
    if (p.ok) continue;
    assert.equal(p.errors.length, expected.length, `${text}: ${p.errors.join(' | ')}`);
    expected.forEach((re, i) => assert.match(p.errors[i]!, re, text));
  }
});

test('parseTarget forms', () => {
  assert.deepEqual(parseTarget('[::1]:25'), { host: '::1', port: 25 });
  assert.deepEqual(parseTarget('mx.test'), { host: 'mx.test', port: 25 });
  assert.deepEqual(parseTarget('127.0.0.1:2525'), { host: '127.0.0.1', port: 2525 });
  assert.equal(typeof parseTarget('::1'), 'string');
});

test('routeFor: exact, then closest parent domain, then *', () => {
  const r = routes('example.test=e:1,.example.test=sub:2,.b.example.test=deep:3,*=any:4');
  const cases: [string, string | undefined][] = [
    ['example.test', 'e'],
    ['EXAMPLE.test.', 'e'],
    ['a.example.test', 'sub'],
    ['x.y.example.test', 'sub'],
    ['b.example.test', 'sub'],
    ['a.b.example.test', 'deep'],
    ['other.test', 'any'],
    ['notexample.test', 'any'],
  ];
  for (const [domain, host] of cases) assert.equal(routeFor(domain, r)?.host, host, domain);
  const noDefault = routes('.example.test=sub:2');
  assert.equal(routeFor('example.test', noDefault), undefined, 'a parent pattern does not match the domain itself');
  assert.equal(routeFor('other.test', noDefault), undefined);
  assert.equal(routeFor('x.test', routes('')), undefined);
});

test('hostPort brackets IPv6', () => {
  assert.equal(hostPort('::1', 25), '[::1]:25');
  assert.equal(hostPort('mx.test', 25), 'mx.test:25');
});
