import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, parsePolicy, parseSchedule, ruleFor, stepAfter, formatDuration } from '../src/index.ts';

const M = 60_000;
const H = 60 * M;

test('durations', () => {
  const table: [string, number | 'error'][] = [
    ['500ms', 500],
    ['90s', 90_000],
    ['5m', 5 * M],
    ['1h30m', 90 * M],
    ['2d', 48 * H],
    ['1.5h', 90 * M],
    ['', 'error'],
    ['5', 'error'],
    ['5x', 'error'],
    ['m5', 'error'],
    ['5 m', 'error'],
  ];
  for (const [text, want] of table) {
    const got = parseDuration(text);
    if (want === 'error') assert.ok(got instanceof Error, `${text} should be an error`);
    else assert.equal(got, want, text);
  }
  assert.equal(formatDuration(90 * M + 1500), '1h30m1s500ms');
});

test('schedules: the n-th step is the wait after the n-th failed attempt', () => {
  const { schedule, errors } = parseSchedule('5m, 10m, 30m*2, 1h*4, 4h...');
  assert.deepEqual(errors, []);
  const waits = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 50].map((n) => stepAfter(schedule!, n));
  assert.deepEqual(waits, [5 * M, 10 * M, 30 * M, 30 * M, H, H, H, H, 4 * H, 4 * H, 4 * H]);

  const finite = parseSchedule('1m, 2m*2').schedule!;
  assert.deepEqual([1, 2, 3, 4].map((n) => stepAfter(finite, n)), [M, 2 * M, 2 * M, undefined]);
});

test('a bad schedule gives one error per bad element', () => {
  const { schedule, errors } = parseSchedule('5m, 10x, 30m*0, , 1h..., 4h');
  assert.equal(schedule, undefined);
  assert.deepEqual(errors, [
    'step 2 "10x": "10x" is not a duration (e.g. 500ms, 90s, 5m, 1h30m, 2d)',
    'step 3 "30m*0": a count must be at least 1',
    'step 4 is empty',
    'step 5 "1h...": "..." (repeat forever) is only allowed on the last step',
  ]);
  assert.deepEqual(parseSchedule('0s').errors, ['step 1 "0s": a wait must be longer than 0']);
});

const POLICY = `
# a comment
jitter = 20%
category=greylisted                     | 1m, 5m, 10m...
mx=.google.com category=quota-issues    | 2h...
domain=example.com,example.org          | 7m...   # trailing comment
mx=.outlook.com                         | 3m...
default                                 | 5m, 10m, 30m*2, 1h*4, 4h...
`;

test('rules: first match wins; domains match subdomains, mx suffixes match hosts', () => {
  const { policy, errors } = parsePolicy(POLICY, { categories: ['greylisted', 'quota-issues', 'rate-limited'] });
  assert.deepEqual(errors, []);
  assert.equal(policy!.jitter, 0.2);
  const table: [string, string, string | undefined, number][] = [
    // category, domain, mx host, line of the rule that decides
    ['greylisted', 'gmail.com', 'gmail-smtp-in.l.google.com', 4],
    ['quota-issues', 'gmail.com', 'gmail-smtp-in.l.google.com', 5],
    ['quota-issues', 'gmail.com', undefined, 8],
    ['rate-limited', 'example.com', undefined, 6],
    ['rate-limited', 'mail.example.org', undefined, 6],
    ['rate-limited', 'notexample.com', undefined, 8],
    ['rate-limited', 'contoso.test', 'contoso-test.mail.protection.outlook.com.', 7],
    ['rate-limited', 'other.test', 'mx.other.test', 8],
  ];
  for (const [category, domain, mxHost, line] of table) {
    assert.equal(ruleFor(policy!, { category, domain, mxHost }).line, line, `${category} ${domain} ${mxHost}`);
  }
});

test('a bad policy gives an error per bad line, with its line number', () => {
  const text = [
    'jitter = 150%', //                         1
    'category=greylisted | 1m, 2q', //          2
    'category=grey-listed | 1m...', //          3
    'colour=blue | 1m...', //                   4
    'just some words', //                       5
    'category=greylisted domain= | 1m...', //   6
    'default | 5m...', //                       7
    'domain=late.example | 1m...', //           8
  ].join('\n');
  const { policy, errors } = parsePolicy(text, { categories: ['greylisted'] });
  assert.equal(policy, undefined);
  assert.deepEqual(errors.map((e) => e.line), [1, 2, 3, 4, 5, 6, 8]);
  assert.match(errors[0]!.message, /percentage below 100/);
  assert.match(errors[1]!.message, /step 2 "2q"/);
  assert.match(errors[2]!.message, /unknown category "grey-listed"/);
  assert.match(errors[3]!.message, /selector "colour=blue"/);
  assert.match(errors[4]!.message, /expected `selectors \| schedule`/);
  assert.match(errors[5]!.message, /selector "domain=" must be/);
  assert.match(errors[6]!.message, /after the default rule \(line 7\)/);
  assert.deepEqual(parsePolicy('category=greylisted | 1m...').errors, [{ line: 0, message: 'no `default | ...` rule: every failure needs a schedule' }]);
});

test('a rule that an earlier rule always pre-empts is an error (the policy linter)', () => {
  const text = [
    'category=quota-issues | 1h...', //                          1
    'mx=.google.com category=quota-issues | 2h...', //           2: dead, line 1 matches first
    'domain=example.com | 5m...', //                             3
    'domain=mail.example.com category=greylisted | 1m...', //    4: dead, subdomain of line 3
    'mx=.google.com | 30m...', //                                5
    'mx=.l.google.com,google.com | 30m...', //                   6: dead, covered by line 5
    'mx=mx.other.test | 30m...', //                              7
    'mx=.other.test | 30m...', //                                8: fine, wider than line 7
    'category=greylisted,rate-limited | 2m...', //               9
    'category=greylisted | 3m...', //                           10: dead
    'default | 5m...',
  ].join('\n');
  const { errors } = parsePolicy(text);
  assert.deepEqual(errors.map((e) => e.line), [2, 4, 6, 10]);
  assert.equal(errors[0]!.message, 'rule can never match: line 1 matches every failure it would');
});
