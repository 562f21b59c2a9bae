import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bool, commonKeys, hostPorts, int, loadConfig, oneOf, topicsOf } from '../src/index.ts';

const spec = {
  port: int('PORT', 'listen port', 8080, 1, 65535),
  brokers: hostPorts('BROKERS', 'kafka', '127.0.0.1:9092'),
  verbose: bool('VERBOSE', 'chatty', false),
  mode: oneOf('MODE', 'mode', ['a', 'b'] as const, 'a'),
  secret: { env: 'SECRET', description: 'a required key', parse: (s: string) => s },
};

test('defaults apply and values parse', () => {
  const r = loadConfig(spec, { SECRET: 'x', PORT: '25', BROKERS: 'k1:9092,k2:9093' });
  assert.ok(r.ok);
  assert.deepEqual(r.config, { port: 25, brokers: ['k1:9092', 'k2:9093'], verbose: false, mode: 'a', secret: 'x' });
});

test('every bad key is reported, each by its variable name', () => {
  const r = loadConfig(spec, { PORT: '99999', BROKERS: 'nohost', VERBOSE: 'maybe', MODE: 'c' });
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.errors.length, 5);
  assert.match(r.errors[0]!, /^PORT="99999" must be between 1 and 65535/);
  assert.match(r.errors[1]!, /^BROKERS="nohost" "nohost" is not host:port/);
  assert.match(r.errors[2]!, /^VERBOSE="maybe" must be true or false/);
  assert.match(r.errors[3]!, /^MODE="c" must be one of a, b/);
  assert.match(r.errors[4]!, /^SECRET is required/);
});

test('topic names are overridable one by one', () => {
  const r = loadConfig(commonKeys('x', 1), { MTA_TOPIC_STATUS: 'campaign.status' });
  assert.ok(r.ok);
  const t = topicsOf(r.config);
  assert.equal(t.status, 'campaign.status');
  assert.equal(t.requests, 'mta.requests');
});
