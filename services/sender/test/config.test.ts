import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '@mta/config';
import { parseDnsServer, senderKeys } from '../src/config.ts';
import { routeFor } from '../src/routes.ts';

test('defaults load without any variable', () => {
  const r = loadConfig(senderKeys, {});
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  assert.equal(r.config.routes, undefined);
  assert.equal(r.config.dnsServer, undefined);
  assert.equal(r.config.mxCacheTtlS, 300);
  assert.equal(r.config.hostFailureMemoryMs, 30_000);
  assert.equal(r.config.smtpPort, 25);
  assert.equal(r.config.smtpTls, 'opportunistic');
  assert.ok(r.config.ehloName.length > 0);
});

test('MTA_ROUTES parses into a route table', () => {
  const r = loadConfig(senderKeys, { MTA_ROUTES: 'example.test=127.0.0.1:2525,*=127.0.0.1:2526', MTA_EHLO_NAME: 'mta.example.net' });
  assert.ok(r.ok);
  assert.equal(routeFor('example.test', r.config.routes!)?.port, 2525);
  assert.equal(routeFor('other.test', r.config.routes!)?.port, 2526);
});

test('bad values are reported with the specific problems', () => {
  const r = loadConfig(senderKeys, {
    MTA_ROUTES: 'example.test,x.test=::1',
    MTA_DNS_SERVER: 'dns.example:53',
    MTA_EHLO_NAME: 'not a name',
    MTA_SMTP_TLS: 'always',
  });
  assert.equal(r.ok, false);
  if (r.ok) return;
  const all = r.errors.join('\n');
  assert.match(all, /MTA_ROUTES=.*route 1 "example\.test": expected domain=host\[:port\]; route 2 "x\.test=::1": .*brackets/);
  assert.match(all, /MTA_DNS_SERVER=.*not an IP address/);
  assert.match(all, /MTA_EHLO_NAME=.*fully qualified/);
  assert.match(all, /MTA_SMTP_TLS=.*must be one of/);
});

test('parseDnsServer accepts what Resolver.setServers takes', () => {
  for (const ok of ['127.0.0.1', '127.0.0.1:5353', '[::1]:53', '::1', '[::1]']) assert.equal(parseDnsServer(ok), ok);
  for (const bad of ['localhost:53', '1.2.3:53', '127.0.0.1:0', '127.0.0.1:70000', '']) assert.throws(() => parseDnsServer(bad), Error, bad);
});
