import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CATEGORIES,
  SENDER_CATEGORIES,
  SHIPPED_RULES_URL,
  checkSamples,
  loadRuleFile,
  matchRule,
  parseRules,
  shadowedRules,
  shippedRules,
} from '../src/index.ts';

const GOOD = [
  '# a comment',
  '',
  '#> 550 5.1.1 <a@example.com>... User Unknown',
  '^5\\d\\d 5\\.1\\.1\\b|user unknown | bad-mailbox | 10 | 1 | hard | recipient',
  '#> 421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred',
  '\\[TSS04\\]\t|\trate-limited | 50 | 20 | soft | sender',
].join('\n');

test('parseRules: a rule per line, samples attached, `|` inside the pattern kept', () => {
  const { rules, errors } = parseRules(GOOD);
  assert.deepEqual(errors, []);
  assert.equal(rules.length, 2);
  const [first, second] = rules as [(typeof rules)[0], (typeof rules)[0]];
  assert.equal(first.line, 4);
  assert.equal(first.source, '^5\\d\\d 5\\.1\\.1\\b|user unknown');
  assert.equal(first.category, 'bad-mailbox');
  assert.equal(first.bounceClass, 10);
  assert.equal(first.reasonCode, 1);
  assert.equal(first.whenPermanent, 'hard');
  assert.equal(first.senderSignal, false);
  assert.deepEqual(first.samples, ['550 5.1.1 <a@example.com>... User Unknown']);
  assert.ok(first.pattern.flags.includes('i'));
  assert.equal(second.line, 6);
  assert.equal(second.senderSignal, true);
  assert.equal(matchRule(rules, '550 USER UNKNOWN'), first);
  assert.equal(matchRule(rules, '250 ok'), undefined);
});

test('parseRules: CRLF files and a BOM parse the same', () => {
  const { rules, errors } = parseRules(`\uFEFF${GOOD.replace(/\n/g, '\r\n')}`);
  assert.deepEqual(errors, []);
  assert.deepEqual(rules.map((r) => r.line), [4, 6]);
});

test('parseRules: every bad line gets an error with its line number; good lines still load', () => {
  const text = [
    '# header', // 1
    'foo | bad-mailbox | 10 | 1 | hard', // 2 too few fields
    '([unclosed | bad-mailbox | 10 | 1 | hard | recipient', // 3 bad regex
    'x | no-such-category | 10 | 1 | hard | recipient', // 4
    'y | bad-mailbox | 15 | 1 | hard | recipient', // 5 unknown class
    'z | bad-mailbox | 10 | 6 | hard | recipient', // 6 unknown reason
    'w | bad-mailbox | 10 | 1 | maybe | recipient', // 7 unknown type
    'v | bad-mailbox | 10 | 1 | hard | someone', // 8 unknown party
    'u | ip-reputation | 51 | 20 | hard | sender', // 9 sender + hard
    't | rate-limited | 50 | 20 | soft | recipient', // 10 sender category flagged recipient
    ' | bad-mailbox | 10 | 1 | hard | recipient', // 11 empty pattern
    '.* | undetermined | 40 | 0 | soft | recipient', // 12 matches everything
    'user unknown | bad-mailbox | 10 | 1 | hard | recipient', // 13 good
    'user unknown | bad-mailbox | 10 | 1 | soft | recipient', // 14 duplicate
    '#>', // 15 empty sample
    '#> 550 dangling sample', // 16 no rule after it
  ].join('\n');
  const { rules, errors } = parseRules(text);
  assert.deepEqual(rules.map((r) => r.line), [13]);
  const byLine = new Map<number, string[]>();
  for (const e of errors) byLine.set(e.line, [...(byLine.get(e.line) ?? []), e.message]);
  assert.deepEqual([...byLine.keys()].sort((a, b) => a - b), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16]);
  const has = (line: number, re: RegExp) => assert.ok(byLine.get(line)!.some((m) => re.test(m)), `line ${line}: ${byLine.get(line)!.join('; ')}`);
  has(2, /expected 6 fields/);
  has(3, /invalid pattern/);
  has(4, /unknown category "no-such-category"/);
  has(5, /unknown bounce class "15"/);
  has(6, /unknown failure reason code "6"/);
  has(7, /unknown failure type "maybe"/);
  has(8, /unknown party "someone"/);
  has(9, /never be hard/);
  has(10, /about the sender/);
  has(11, /empty pattern/);
  has(12, /matches an empty reply/);
  has(14, /duplicate pattern, already on line 13/);
  has(15, /empty sample/);
  has(16, /not followed by a rule/);
});

test('parseRules: one line can carry several problems', () => {
  const { errors } = parseRules('x | nope | 99 | 99 | hard | recipient');
  assert.equal(errors.length, 3);
  assert.ok(errors.every((e) => e.line === 1));
});

test('checkSamples / shadowedRules: a rule whose sample an earlier rule takes is reported', () => {
  const { rules, errors } = parseRules(
    [
      '#> 550 5.1.1 User unknown',
      '^5\\d\\d | undetermined | 40 | 0 | soft | recipient', // 2: swallows everything 5xx
      '#> 550 5.1.1 <a@b>... User unknown',
      'user unknown | bad-mailbox | 10 | 1 | hard | recipient', // 4: shadowed by line 2
      '#> 552 5.2.2 Mailbox full',
      'quota | quota-issues | 22 | 5 | soft | recipient', // 6: its own sample does not match
    ].join('\n'),
  );
  assert.deepEqual(errors, []);
  const shadowed = shadowedRules(rules);
  assert.equal(shadowed.length, 1);
  assert.equal(shadowed[0]!.rule.line, 4);
  assert.equal(shadowed[0]!.by.line, 2);
  const { unmatched } = checkSamples(rules);
  assert.equal(unmatched.length, 1);
  assert.equal(unmatched[0]!.rule.line, 6);
  assert.equal(unmatched[0]!.matchedBy?.line, 2);
  // explicit samples, e.g. from a corpus
  assert.deepEqual(shadowedRules(rules, [{ line: 6, reply: '452 4.2.2 quota exceeded' }]), []);
  assert.equal(shadowedRules(rules, [{ line: 6, reply: '552 5.2.2 quota exceeded' }])[0]?.by.line, 2);
});

test('shipped rules.txt: loads without errors and is cached', () => {
  const { rules, errors } = loadRuleFile(SHIPPED_RULES_URL);
  assert.deepEqual(errors, []);
  assert.ok(rules.length >= 60, `only ${rules.length} rules`);
  assert.equal(shippedRules(), shippedRules());
  assert.equal(shippedRules().length, rules.length);
});

test('shipped rules.txt: every rule has a real sample, matched first by that rule (none shadowed)', () => {
  const rules = shippedRules();
  assert.deepEqual(rules.filter((r) => r.samples.length === 0).map((r) => r.line), []);
  const { shadowed, unmatched } = checkSamples(rules);
  assert.deepEqual(shadowed.map((s) => `line ${s.rule.line} shadowed by line ${s.by.line}: ${s.sample}`), []);
  assert.deepEqual(unmatched.map((s) => `line ${s.rule.line} does not match its sample: ${s.sample}`), []);
});

test('shipped rules.txt: sender rules are never hard; sender categories are flagged sender', () => {
  for (const r of shippedRules()) {
    if (r.senderSignal) assert.notEqual(r.whenPermanent, 'hard', `line ${r.line}`);
    if (SENDER_CATEGORIES.has(r.category)) assert.equal(r.senderSignal, true, `line ${r.line}`);
    assert.ok((CATEGORIES as readonly string[]).includes(r.category));
  }
});

test('shipped rules.txt: ends with the plain 4xx and 5xx catch-alls, in that order', () => {
  const rules = shippedRules();
  assert.deepEqual(rules.slice(-2).map((r) => r.source), ['^4\\d\\d\\b', '^5\\d\\d\\b']);
  for (const r of rules.slice(-2)) assert.equal(r.category, 'undetermined');
});

test('parseRules: `hard-if-rcpt` is a Hard that needs confirmation; never for the sender', () => {
  const { rules, errors } = parseRules(['user unknown | bad-mailbox | 10 | 1 | hard-if-rcpt | recipient', 'x | ip-reputation | 51 | 20 | hard-if-rcpt | sender'].join('\n'));
  assert.equal(rules.length, 1);
  assert.equal(rules[0]!.whenPermanent, 'hard');
  assert.equal(rules[0]!.needsRcpt, true);
  assert.ok(errors.some((e) => e.line === 2 && /never be hard/.test(e.message)));
  assert.equal(parseRules('user unknown | bad-mailbox | 10 | 1 | hard | recipient').rules[0]!.needsRcpt, false);
});
