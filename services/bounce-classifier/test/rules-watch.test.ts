import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifyReply } from '../src/classify.ts';
import { loadRuleFile } from '../src/rules.ts';
import { watchRules } from '../src/rules-watch.ts';

const RULE_A = '#> 550 5.1.1 no such user\n^5\\d\\d 5\\.1\\.1\\b | bad-mailbox | 10 | 1 | hard | recipient\n';
const RULE_B = '#> 550 mailbox on fire\nmailbox on fire | quota-issues | 22 | 5 | soft | recipient\n';

function logger() {
  const lines: { level: string; obj: object; msg: string }[] = [];
  const at = (level: string) => (obj: object, msg: string) => lines.push({ level, obj, msg });
  return { lines, log: { info: at('info'), warn: at('warn'), error: at('error') } };
}

function bump(path: string, text: string, t: number) {
  writeFileSync(path, text);
  utimesSync(path, t, t); // distinct mtimes even within one clock tick
}

test('rules reload without restart; a bad file keeps the last good rules and logs line-numbered errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rules-'));
  const path = join(dir, 'rules.txt');
  try {
    writeFileSync(path, RULE_A);
    const { lines, log } = logger();
    const source = watchRules(path, loadRuleFile(path).rules, { intervalMs: 0, log });
    const classify = (reply: string) => classifyReply({ response: reply }, source.current()).failure.category;
    assert.equal(classify('550 mailbox on fire'), 'undetermined');
    assert.deepEqual(source.check(), { status: 'unchanged' });

    bump(path, RULE_A + RULE_B, 1_000_000);
    assert.deepEqual(source.check(), { status: 'reloaded', count: 2, shadowed: 0 });
    assert.equal(classify('550 mailbox on fire'), 'quota-issues');

    bump(path, RULE_A + RULE_B + 'broken( | bad-mailbox | 10 | 1 | hard | recipient\nx | no-such-category | 10 | 1 | hard | recipient\n', 2_000_000);
    const r = source.check();
    assert.equal(r.status, 'rejected');
    assert.deepEqual(r.status === 'rejected' ? r.errors.map((e) => e.line) : [], [5, 6]);
    assert.equal(classify('550 mailbox on fire'), 'quota-issues', 'the last good rules stay in force');
    const err = lines.find((l) => l.level === 'error')!;
    assert.match(JSON.stringify(err.obj), /line 5: invalid pattern/);
    assert.match(JSON.stringify(err.obj), /line 6: unknown category/);

    // A rule shadowed by an earlier one is reported on reload.
    bump(path, RULE_A + '#> 550 5.1.1 gone\ngone | bad-mailbox | 10 | 1 | hard | recipient\n', 3_000_000);
    assert.deepEqual(source.check(), { status: 'reloaded', count: 2, shadowed: 1 });
    assert.match(JSON.stringify(lines.at(-1)!.obj), /line 4 is shadowed by line 2/);
    source.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('polling picks up a change by itself', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rules-'));
  const path = join(dir, 'rules.txt');
  try {
    writeFileSync(path, RULE_A);
    const { log } = logger();
    let reloads = 0;
    const source = watchRules(path, loadRuleFile(path).rules, { intervalMs: 20, log, onReload: () => reloads++ });
    bump(path, RULE_A + RULE_B, 5_000_000);
    const deadline = Date.now() + 5000;
    while (reloads === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    source.close();
    assert.equal(source.current().length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
