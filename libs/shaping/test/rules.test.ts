import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { lintShapingRules, parseShapingRules, resolve, type ShapingRules } from '../src/index.ts';

const parse = (text: string): ShapingRules => {
  const p = parseShapingRules(text);
  assert.ok(p.ok, p.ok ? '' : p.errors.join('\n'));
  return p.rules;
};

const RULES = `
defaults: { messagesPerSecond: 100, maxConnections: 10, messagesPerConnection: 100 }
providers:
  google:
    match: [.google.com]
    messagesPerSecond: 40
    maxConnections: 5
    tls: required
  google-alt:
    match: [.alt.google.com]
    messagesPerSecond: 7
  apple:
    match: [.icloud.com]
    messagesPerSecond: 10
    messagesPerConnection: 5
    connectionsPerSecond: 1
domains:
  vip.example: { messagesPerSecond: 3 }
  .corp.example: { maxConnections: 2 }
sourceIps:
  192.0.2.10:
    messagesPerSecond: 60
    providers: { google: { messagesPerSecond: 9 } }
`;

test('layering: defaults → provider (MX suffix, longest wins) → domain → sending IP', () => {
  const rules = parse(RULES);
  const rows: [string, string[], string | undefined, string | undefined, number, number, string][] = [
    // domain, MX hosts, source IP, provider, rate, maxConnections, tls
    ['gmail.com', ['gmail-smtp-in.l.google.com'], undefined, 'google', 40, 5, 'required'],
    ['workspace.example', ['aspmx.l.google.com', 'alt1.aspmx.l.google.com'], undefined, 'google', 40, 5, 'required'], // MX rollup
    ['x.example', ['mx.alt.google.com'], undefined, 'google-alt', 7, 10, 'opportunistic'],
    ['other.example', ['mx.other.example'], undefined, undefined, 100, 10, 'opportunistic'],
    ['vip.example', ['aspmx.l.google.com'], undefined, 'google', 3, 5, 'required'],
    ['a.corp.example', ['mx.corp.example'], undefined, undefined, 100, 2, 'opportunistic'],
    ['gmail.com', ['gmail-smtp-in.l.google.com'], '192.0.2.10', 'google', 9, 5, 'required'],
    ['other.example', ['mx.other.example'], '192.0.2.10', undefined, 60, 10, 'opportunistic'],
    ['icloud.com', ['mx01.mail.icloud.com'], undefined, 'apple', 5, 10, 'opportunistic'], // capped by 1 conn/s × 5 msgs/conn
    ['google.com.evil.example', ['mx.google.com.evil.example'], undefined, undefined, 100, 10, 'opportunistic'],
  ];
  for (const [domain, mxHosts, sourceIp, provider, rate, conns, tls] of rows) {
    const r = resolve(rules, { domain, mxHosts, sourceIp });
    assert.deepEqual([r.provider, r.knobs.messagesPerSecond, r.knobs.maxConnections, r.knobs.tls], [provider, rate, conns, tls], `${domain} via ${mxHosts} from ${sourceIp}`);
  }
});

test('TLS policy handed to the sender: only when a layer sets it (else the sender\'s default applies)', () => {
  const withDefault = parse(`${RULES.replace('defaults: { messagesPerSecond: 100,', 'defaults: { tls: disabled, messagesPerSecond: 100,')}\n`);
  const rows: [ShapingRules, string, string[], string | undefined, string | undefined][] = [
    // rules, domain, MX hosts, source IP, Resolved.tls
    [parse(RULES), 'gmail.com', ['gmail-smtp-in.l.google.com'], undefined, 'required'],
    [parse(RULES), 'other.example', ['mx.other.example'], undefined, undefined],
    [parse(RULES), 'x.example', ['mx.alt.google.com'], undefined, undefined], // google-alt sets none
    [withDefault, 'other.example', ['mx.other.example'], undefined, 'disabled'],
    [withDefault, 'gmail.com', ['gmail-smtp-in.l.google.com'], '192.0.2.10', 'required'],
    [parse(`${RULES}\n  192.0.2.11: { tls: opportunistic }\n`), 'gmail.com', ['gmail-smtp-in.l.google.com'], '192.0.2.11', 'opportunistic'],
  ];
  for (const [rules, domain, mxHosts, sourceIp, tls] of rows) assert.equal(resolve(rules, { domain, mxHosts, sourceIp }).tls, tls, `${domain} from ${sourceIp}`);
});

test('parser: every structural error is reported with its path', () => {
  const p = parseShapingRules(`
defaults: { messagesPerSecond: -1, tls: sometimes }
providers:
  x: { match: [.x.example], maxConections: 3, automation: [{ pattern: '(', action: explode }] }
domains: { a.example: { maxConnections: 1.5 } }
adaptive: { decrease: 2, recovery: 0.5 }
sourceIps: { 192.0.2.1: { providers: { nope: {} }, warmupStart: yesterday } }
extra: 1
`);
  assert.equal(p.ok, false);
  if (p.ok) return;
  const expected = [
    'unknown top-level key "extra"',
    'defaults.messagesPerSecond: must be a positive number',
    'defaults.tls: one of opportunistic, required, disabled',
    'adaptive.decrease: a factor below 1',
    'adaptive.recovery: a factor of at least 1',
    'providers.x.maxConections: unknown key',
    'providers.x.automation[0].pattern: Invalid regular expression',
    'providers.x.automation[0].action: one of suspend, lower-rate, lower-connections, disable-ip, bounce-queue',
    'domains."a.example".maxConnections: must be a positive integer',
    'sourceIps."192.0.2.1".warmupStart: a date YYYY-MM-DD',
    'sourceIps."192.0.2.1".providers.nope: no such provider',
  ];
  for (const e of expected) assert.ok(p.errors.some((x) => x.startsWith(e)), `missing "${e}" in\n${p.errors.join('\n')}`);
  assert.equal(p.errors.length, expected.length, p.errors.join('\n'));
  assert.equal(parseShapingRules('defaults: [').ok, false);
});

test('linter: never-matching rules, overlaps, rules shadowed by defaults', () => {
  const rules = parse(`
defaults: { messagesPerSecond: 20, maxConnections: 10 }
providers:
  nomatch: { messagesPerSecond: 5 }
  trailing: { match: [.yahoodns.net.], messagesPerSecond: 5 }
  badlabel: { match: [.exa_mple.com, '.-bad.com', '*.foo.com'], messagesPerSecond: 5 }
  a: { match: [.outlook.com], messagesPerSecond: 5 }
  b: { match: [.protection.outlook.com, .outlook.com], messagesPerSecond: 6 }
  c: { match: [.icloud.com, .mail.icloud.com], messagesPerSecond: 7 }
  same: { match: [.same.example], messagesPerSecond: 20 }
domains:
  plain.example: { maxConnections: 10 }
  ok.example: { maxConnections: 1 }
sourceIps:
  not-an-ip: { messagesPerSecond: 1 }
  192.0.2.5: { messagesPerSecond: 20 }
`);
  const got = lintShapingRules(rules).map((f) => `${f.kind} ${f.where}`).sort();
  assert.deepEqual(got, [
    'never-matches providers.badlabel.match "*.foo.com"',
    'never-matches providers.badlabel.match ".-bad.com"',
    'never-matches providers.badlabel.match ".exa_mple.com"',
    'never-matches providers.nomatch',
    'never-matches providers.trailing.match ".yahoodns.net."',
    'never-matches sourceIps."not-an-ip"',
    'overlap providers.b.match ".outlook.com"',
    'overlap providers.b.match ".protection.outlook.com"',
    'overlap providers.c.match ".mail.icloud.com"',
    'shadowed domains."plain.example"',
    'shadowed providers.same',
    'shadowed sourceIps."192.0.2.5"',
  ]);
});

test('the shipped rules parse, cover the major providers and lint clean', () => {
  const rules = parse(readFileSync(new URL('../../../services/throttle/shaping.default.yaml', import.meta.url), 'utf8'));
  assert.deepEqual(lintShapingRules(rules), []);
  const rows: [string, string][] = [
    ['gmail-smtp-in.l.google.com', 'google'],
    ['example-com.mail.protection.outlook.com', 'microsoft'],
    ['mta5.am0.yahoodns.net', 'yahoo'],
    ['mx-aol.mail.gm0.yahoodns.net', 'yahoo'],
    ['mx01.mail.icloud.com', 'apple'],
    ['mx00.gmx.net', 'gmx-webde'],
    ['mx-ha03.web.de', 'gmx-webde'],
    ['mx00.t-online.de', 't-online'],
    ['smtp-in.orange.fr', 'orange'],
    ['mxs.mail.ru', 'mail-ru'],
    ['mx.yandex.ru', 'yandex'],
    ['mx3.qq.com', 'qq'],
    ['163mx01.mxmail.netease.com', 'netease'],
    ['mx1.naver.com', 'naver'],
  ];
  for (const [host, provider] of rows) assert.equal(resolve(rules, { domain: 'd.example', mxHosts: [host] }).provider, provider, host);
  const g = resolve(rules, { domain: 'gmail.com', mxHosts: ['gmail-smtp-in.l.google.com'] });
  assert.deepEqual([g.knobs.maxConnections, g.knobs.messagesPerConnection, g.knobs.tls], [5, 50, 'required']); // KumoMTA's values
});
