import { readFileSync } from 'node:fs';
import { classifyReply } from '../classify.ts';
import { loadRuleFile, shippedRules, type Rule } from '../rules.ts';
import { parseBounce } from '../bounce/parse.ts';
import { qualifyReport } from '../bounce/qualify.ts';

/**
 * The command-line classifier. One JSON object per line on stdout:
 * - per recipient of each report file (DSN, text bounce, feedback report, auto-reply);
 * - `{"file":..., "bounce":false, "reason":...}` for a file that is not a report (a normal email);
 * - for `--reply`, one line for the reply.
 * Exit status: 0 = every input classified; 1 = at least one file was not a bounce report (or
 * named no recipient); 2 = usage, unreadable file or bad rules file.
 */
export const USAGE = `usage: mta-classify [--rules FILE] FILE.eml ...      (- reads one message from stdin)
       mta-classify [--rules FILE] --reply "550 5.1.1 ..." [--command "RCPT TO"]`;

interface Io {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  stdin: AsyncIterable<Buffer | string>;
}

export async function main(argv: string[], io: Io): Promise<number> {
  const files: string[] = [];
  let reply: string | undefined;
  let command: string | undefined;
  let rulesPath: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--reply' || a === '--command' || a === '--rules') {
      const v = argv[++i];
      if (v === undefined) return usage(io, `${a} needs a value`);
      if (a === '--reply') reply = v;
      else if (a === '--command') command = v;
      else rulesPath = v;
    } else if (a === '-h' || a === '--help') {
      io.stdout.write(USAGE + '\n');
      return 0;
    } else if (a.startsWith('--')) return usage(io, `unknown option ${a}`);
    else files.push(a);
  }
  if (reply === undefined && files.length === 0) return usage(io, 'nothing to classify');

  let rules: readonly Rule[];
  if (rulesPath) {
    const loaded = loadRuleFile(rulesPath);
    if (loaded.errors.length) {
      for (const e of loaded.errors) io.stderr.write(`${rulesPath}:${e.line}: ${e.message}\n`);
      return 2;
    }
    rules = loaded.rules;
  } else rules = shippedRules();

  const out = (o: object) => io.stdout.write(JSON.stringify(o) + '\n');
  if (reply !== undefined) {
    const c = classifyReply({ response: reply, command }, rules);
    const f = c.failure;
    out({
      reply,
      failureType: f.type,
      failureReason: f.reason,
      failureReasonCode: f.reasonCode,
      bounceClass: f.bounceClass,
      category: f.category,
      status: /(?:^|\s)([245]\.\d{1,3}\.\d{1,3})\b/.exec(reply)?.[1] ?? null,
      replyCode: Number(/^\s*([2-5]\d\d)\b/.exec(reply)?.[1]) || null,
      permanent: c.permanent,
      senderSignal: c.senderSignal,
      rule: c.ruleLine ?? null,
    });
  }

  let status = 0;
  for (const file of files) {
    let raw: Buffer;
    try {
      raw = file === '-' ? await readAll(io.stdin) : readFileSync(file);
    } catch (err) {
      io.stderr.write(`${file}: ${(err as Error).message}\n`);
      status = 2;
      continue;
    }
    const report = parseBounce(raw);
    if (report.kind === 'not-bounce') {
      out({ file, bounce: false, reason: report.note ?? 'not a bounce', subject: report.subject ?? null });
      status = Math.max(status, 1);
      continue;
    }
    const qualified = qualifyReport(report, rules);
    if (qualified.length === 0) {
      out({ file, bounce: true, kind: report.kind, format: report.format, recipient: null, reason: 'no recipient found in the report' });
      status = Math.max(status, 1);
      continue;
    }
    for (const q of qualified) {
      out({
        file,
        bounce: true,
        kind: report.kind,
        format: report.format,
        recipient: q.recipient,
        outcome: q.outcome,
        action: q.action,
        failureType: q.failure.type,
        failureReason: q.failure.reason,
        failureReasonCode: q.failure.reasonCode,
        bounceClass: q.failure.bounceClass,
        category: q.failure.category,
        status: q.status ?? null,
        replyCode: q.replyCode ?? null,
        command: q.command ?? null,
        remoteMta: q.remoteMta ?? null,
        senderSignal: q.senderSignal,
        rule: q.ruleLine ?? null,
        messageId: report.original.mtaMessageId ?? report.original.messageId ?? null,
        diagnostic: q.failure.message,
      });
    }
  }
  return status;
}

function usage(io: Io, problem: string): number {
  io.stderr.write(`mta-classify: ${problem}\n${USAGE}\n`);
  return 2;
}

async function readAll(stream: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks);
}
