/** `npx mta-classify` as a user runs it, from the repository root. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '@mta/testkit';
import { normalMail, postfixDsn } from './support/reports.ts';

function npx(args: string[]) {
  // npm links workspace bins at install time; without the link npx would ask the registry.
  assert.ok(existsSync(join(ROOT, 'node_modules', '.bin', 'mta-classify')), 'node_modules/.bin/mta-classify missing: run npm ci');
  const r = spawnSync('npx', ['--no-install', 'mta-classify', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60000 });
  return { status: r.status, lines: r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>), stderr: r.stderr };
}

test('npx mta-classify --reply classifies one SMTP reply', () => {
  const r = npx(['--reply', '550 5.1.1 <a@example.net>: Recipient address rejected: User unknown in local recipient table']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.lines.length, 1);
  assert.deepEqual(
    { ...r.lines[0], rule: undefined },
    {
      reply: '550 5.1.1 <a@example.net>: Recipient address rejected: User unknown in local recipient table',
      failureType: 'hard',
      failureReason: 'User unknown',
      failureReasonCode: 1,
      bounceClass: 10,
      category: 'bad-mailbox',
      status: '5.1.1',
      replyCode: 550,
      permanent: true,
      senderSignal: false,
      rule: undefined,
    },
  );
});

test('npx mta-classify FILE prints one line per recipient; a normal email says it is not a bounce (exit 1)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-'));
  try {
    const dsn = join(dir, 'dsn.eml');
    const normal = join(dir, 'normal.eml');
    writeFileSync(dsn, postfixDsn([['gone@example.net', '5.1.1', '550 5.1.1 User unknown'], ['full@example.net', '4.2.2', '452 4.2.2 Mailbox full']], { to: 'gone@example.net' }));
    writeFileSync(normal, normalMail());
    const ok = npx([dsn]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.deepEqual(
      ok.lines.map((l) => [l.file, l.recipient, l.failureType, l.failureReason, l.failureReasonCode, l.bounceClass, l.category, l.status, l.replyCode]),
      [
        [dsn, 'gone@example.net', 'hard', 'User unknown', 1, 10, 'bad-mailbox', '5.1.1', 550],
        [dsn, 'full@example.net', 'soft', 'Mailbox full', 5, 22, 'quota-issues', '4.2.2', 452],
      ],
    );
    const not = npx([normal, dsn]);
    assert.equal(not.status, 1);
    assert.deepEqual(not.lines[0], { file: normal, bounce: false, reason: 'no delivery report, feedback report or auto-reply found', subject: 'Question about my order' });
    assert.equal(not.lines.length, 3, 'the other file is still classified');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('usage errors exit 2', () => {
  const r = npx([]);
  assert.equal(r.status, 2);
});
