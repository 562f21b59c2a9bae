/**
 * `npm run bench:classify`: accuracy of the asynchronous-bounce classifier on the labelled corpus
 * (CORPUS_DIR, default ../shared/corpus relative to the repository, i.e. /work/shared/corpus).
 *
 * Every bounce file goes through `parseBounce` + `qualifyReport` (the same code the inbound
 * listener runs); every labelled SMTP string through `classifyReply`. Each expectation (one per
 * recipient, sisimai's label) is mapped to Campaign's vocabulary with the corpus README's proposed
 * mapping (below) and compared on failure type and on reason. Reports overall, per family and per
 * MTA, and the misses grouped by cause; writes bench/results/classify-accuracy.{json,md}.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { classifyReply, shippedRules } from '../services/bounce-classifier/src/index.ts';
import { parseBounce } from '../services/bounce-classifier/src/bounce/parse.ts';
import { qualifyReport, type QualifiedRecipient } from '../services/bounce-classifier/src/bounce/qualify.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const corpusDir = process.env.CORPUS_DIR ?? [join(root, '..', 'shared', 'corpus'), join(root, '..', '..', 'shared', 'corpus'), '/work/shared/corpus'].find(existsDir) ?? '/work/shared/corpus';

function existsDir(p: string): boolean {
  try {
    readFileSync(join(p, 'README.md'));
    return true;
  } catch {
    return false;
  }
}

/** What we count as right for a sisimai reason: failure types and Campaign reason codes accepted. */
type Want = { types: string[]; reasons: number[] };
const SOFT = (reasons: number[]): Want => ({ types: ['soft'], reasons });
/**
 * The corpus README's proposed mapping. Where the README and BRIEF §4 disagree both are accepted
 * (relaying denied: README "Refused", BRIEF "54 → Unreachable"). `complaint`/`ignored` are outcomes
 * rather than failure types: a complaint must come out as a complaint (Denylisted address), an
 * auto-reply or a success notice as no status change.
 */
const MAPPING: Record<string, Want> = {
  userunknown: { types: ['hard'], reasons: [1] },
  hasmoved: { types: ['hard'], reasons: [1] },
  hostunknown: { types: ['hard'], reasons: [2] },
  mailboxfull: SOFT([5]),
  expired: SOFT([3]),
  filtered: SOFT([20]),
  rejected: SOFT([20]),
  blocked: SOFT([20]),
  authfailure: SOFT([20]),
  networkerror: SOFT([3]),
  policyviolation: SOFT([20]),
  suspend: SOFT([4]),
  requireptr: SOFT([20]),
  spamdetected: SOFT([20]),
  systemerror: SOFT([3]),
  securityerror: SOFT([20]),
  mailererror: SOFT([3]),
  norelaying: SOFT([20, 3]),
  notcompliantrfc: SOFT([20]),
  onhold: SOFT([0]),
  toomanyconn: SOFT([20]),
  speeding: SOFT([20]),
  ratelimited: SOFT([20]),
  badreputation: SOFT([20]),
  exceedlimit: SOFT([20]),
  mesgtoobig: SOFT([20]),
  emailtoolarge: SOFT([20]),
  contenterror: SOFT([20]),
  syntaxerror: SOFT([20]),
  virusdetected: SOFT([20]),
  systemfull: SOFT([3]),
  undefined: SOFT([0]),
  failedstarttls: SOFT([20]),
  vacation: { types: ['ignored'], reasons: [25] },
  delivered: { types: ['none'], reasons: [-1] },
};

function want(reason: string, hardbounce: boolean, feedbacktype?: string): Want {
  if (reason === 'feedback') return feedbacktype === 'abuse' || feedbacktype === 'fraud' ? { types: ['complaint'], reasons: [8] } : { types: ['none'], reasons: [-1] };
  if (reason === 'notaccept') return { types: [hardbounce ? 'hard' : 'soft'], reasons: [2] };
  const w = MAPPING[reason];
  if (!w) throw new Error(`no mapping for sisimai reason ${reason}`);
  return w;
}

/** Our answer for one recipient, in the same terms. */
function got(q: QualifiedRecipient | undefined): { type: string; reason: number; category: string; message: string } {
  if (!q) return { type: 'missing', reason: -2, category: 'missing', message: 'no recipient found' };
  if (q.outcome === 'complaint') return { type: 'complaint', reason: q.failure.reasonCode, category: q.failure.category, message: q.failure.message };
  if (q.outcome === 'ignored' && q.failure.type !== 'ignored') return { type: 'none', reason: -1, category: q.failure.category, message: q.note ?? '' };
  if (q.outcome === 'ignored' && q.failure.category !== 'auto-reply') return { type: 'none', reason: -1, category: q.failure.category, message: q.note ?? '' };
  return { type: q.failure.type, reason: q.failure.reasonCode, category: q.failure.category, message: q.failure.message };
}

interface Expectation {
  recipient: string | null;
  status: string;
  replycode: string;
  reason: string;
  hardbounce: boolean;
  feedbacktype?: string;
}
interface Row {
  file: string;
  mta: string;
  family: string;
  expected: Expectation;
  want: Want;
  got: ReturnType<typeof got>;
  format: string;
  typeOk: boolean;
  reasonOk: boolean;
}

const rules = shippedRules();
const rows: Row[] = [];
/** Labels whose recipient is not in the file, matched by position instead (listed in the report). */
const recipientByPosition: string[] = [];
const manifest = readFileSync(join(corpusDir, 'bounces', 'manifest.jsonl'), 'utf8').split('\n').filter(Boolean);
const t0 = performance.now();
for (const line of manifest) {
  const m = JSON.parse(line) as { file: string; mta: string; family: string; expected: Expectation[] };
  const raw = readFileSync(join(corpusDir, 'bounces', m.file));
  const report = parseBounce(raw);
  const qualified = qualifyReport(report, rules);
  const used = new Set<number>();
  const rawText = raw.toString('latin1').toLowerCase();
  m.expected.forEach((e, i) => {
    let idx = e.recipient ? qualified.findIndex((q, j) => !used.has(j) && q.recipient === e.recipient!.toLowerCase()) : -1;
    // By position (README: "matched by recipient where recipient is set, otherwise by position")
    // when the label has no recipient, or names one that appears nowhere in the file (p5-sisimai,
    // which supplied the recipients, truncated or re-typed a few: `kijitora@exampl`); only when we
    // found exactly as many recipients as the label expects, so no result is matched twice.
    const absent = !e.recipient || !new RegExp(`(?<![\\w.+-])${e.recipient.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-]|\\.\\w)`).test(rawText);
    if (idx < 0 && absent && qualified.length === m.expected.length && !used.has(i)) {
      idx = i;
      if (e.recipient) recipientByPosition.push(`${m.file} <${e.recipient}> → <${qualified[i]!.recipient}>`);
    }
    if (idx >= 0) used.add(idx);
    const g = got(idx >= 0 ? qualified[idx] : undefined);
    const w = want(e.reason, e.hardbounce, e.feedbacktype);
    rows.push({ file: m.file, mta: m.mta, family: m.family, expected: e, want: w, got: g, format: report.format, typeOk: w.types.includes(g.type), reasonOk: w.reasons.includes(g.reason) });
  });
}
const fileMs = performance.now() - t0;

// Labelled SMTP strings (sync path).
const replyRows: Row[] = [];
for (const line of readFileSync(join(corpusDir, 'smtp-replies.jsonl'), 'utf8').split('\n').filter(Boolean)) {
  const r = JSON.parse(line) as { reply: string; reason: string };
  const c = classifyReply({ response: r.reply, permanent: true }, rules);
  const g = { type: c.failure.type, reason: c.failure.reasonCode, category: c.failure.category, message: c.failure.message };
  const w = want(r.reason, ['userunknown', 'hostunknown', 'hasmoved', 'notaccept'].includes(r.reason));
  replyRows.push({ file: r.reply.slice(0, 80), mta: 'smtp-reply', family: 'smtp-reply', expected: { recipient: null, status: '', replycode: '', reason: r.reason, hardbounce: false }, want: w, got: g, format: 'reply', typeOk: w.types.includes(g.type), reasonOk: w.reasons.includes(g.reason) });
}

function score(rs: Row[]) {
  const n = rs.length;
  const t = rs.filter((r) => r.typeOk).length;
  const re = rs.filter((r) => r.reasonOk).length;
  return { n, type: n ? t / n : 0, reason: n ? re / n : 0, typeOk: t, reasonOk: re };
}
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
function groupBy<T>(xs: T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
  return m;
}

/** Why a row is wrong, as a group label: what was expected vs what we said. */
function cause(r: Row): string {
  if (r.got.type === 'missing') return 'recipient not found in the report';
  const exp = `${r.expected.reason}${r.expected.reason === 'feedback' ? `/${r.expected.feedbacktype}` : ''}`;
  return `${exp} → ${r.got.category} (${r.got.type}, reason ${r.got.reason})`;
}

/**
 * Disputed labels (bench/classify-disputed.jsonl): expectations where we examined the bounce and
 * keep our answer because sisimai's label contradicts the evidence (`wrong`), disagrees with the
 * label of identical evidence elsewhere in the corpus (`inconsistent`), or picks one reading of a
 * text that supports several (`ambiguous`, where we keep the one that cannot quarantine a live
 * address). Each has its reason in the file. They are not dropped: the raw figure counts them;
 * "undisputed" leaves them out. An entry whose recorded answer no longer matches ours is reported
 * as stale, so the list cannot silently excuse a changed classifier.
 */
interface Disputed {
  file?: string;
  reply?: string;
  recipient?: string | null;
  label: string;
  ours?: { type: string; reason: number };
  verdict: 'wrong' | 'inconsistent' | 'ambiguous';
  why: string;
}
const disputedPath = join(root, 'bench', 'classify-disputed.jsonl');
const disputed: Disputed[] = readFileSync(disputedPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Disputed);
const disputeOf = (r: Row): Disputed | undefined =>
  r.family === 'smtp-reply'
    ? disputed.find((d) => d.reply !== undefined && r.file.startsWith(d.reply.slice(0, 80)) && d.label === r.expected.reason)
    : disputed.find((d) => d.file === r.file && (d.recipient ?? null) === (r.expected.recipient ?? null) && d.label === r.expected.reason);
const stale: string[] = [];
for (const d of disputed) {
  const r = [...rows, ...replyRows].find((x) => disputeOf(x) === d);
  const name = d.file ? `${d.file}${d.recipient ? ` <${d.recipient}>` : ''}` : `«${d.reply}»`;
  if (!r) stale.push(`${name}: no such expectation`);
  else if (r.typeOk && r.reasonOk) stale.push(`${name}: we now agree with the label`);
  else if (d.ours && (d.ours.type !== r.got.type || d.ours.reason !== r.got.reason)) stale.push(`${name}: our answer changed to ${r.got.type}/${r.got.reason}`);
}
const undisputedRows = rows.filter((r) => !disputeOf(r));
const undisputed = score(undisputedRows);
const undisputedReplies = score(replyRows.filter((r) => !disputeOf(r)));

const overall = score(rows);
const byFamily = [...groupBy(rows, (r) => r.family)].map(([k, v]) => ({ key: k, ...score(v) }));
const byMta = [...groupBy(rows, (r) => `${r.family}/${r.mta}`)].map(([k, v]) => ({ key: k, ...score(v) })).sort((a, b) => a.key.localeCompare(b.key));
const byReason = [...groupBy(rows, (r) => r.expected.reason)].map(([k, v]) => ({ key: k, ...score(v) })).sort((a, b) => b.n - a.n);
const misses = rows.filter((r) => !r.typeOk || !r.reasonOk);
const missGroups = [...groupBy(misses, cause)].sort((a, b) => b[1].length - a[1].length);
const replies = score(replyRows);
/**
 * The largest known disagreement, reported apart (not excused): sisimai labels a "user unknown"
 * reply `filtered` when it cannot see the SMTP phase and the status is not X.1.1. We agree on the
 * type (Soft) when a report quotes such a reply second-hand (rules.txt `hard-if-rcpt`), and keep
 * Hard / User unknown where the bounce shows RCPT TO or is the reporter's own verdict (no quoted
 * reply). See docs/bounces.md.
 */
const filteredAsUnknown = rows.filter((r) => !r.typeOk && r.expected.reason === 'filtered' && r.got.category === 'bad-mailbox' && r.got.type === 'hard').length;
const replyMisses = replyRows.filter((r) => !r.typeOk || !r.reasonOk);

const lines: string[] = [];
lines.push(`# Bounce classification accuracy`, '');
lines.push(`Corpus: ${corpusDir} (${manifest.length} files, ${rows.length} expected recipients). Run ${new Date().toISOString()}; parse+classify ${fileMs.toFixed(0)} ms for all files on a shared 2-core machine.`, '');
lines.push(`| scope | expectations | failure type | reason |`, `|---|---|---|---|`);
lines.push(`| **bounce files, overall** | ${overall.n} | **${pct(overall.type)}** (${overall.typeOk}) | **${pct(overall.reason)}** (${overall.reasonOk}) |`);
for (const f of byFamily) lines.push(`| family ${f.key} | ${f.n} | ${pct(f.type)} | ${pct(f.reason)} |`);
lines.push(`| SMTP reply strings | ${replies.n} | ${pct(replies.type)} | ${pct(replies.reason)} |`);
lines.push(`| **bounce files, undisputed labels** | ${undisputed.n} | **${pct(undisputed.type)}** (${undisputed.typeOk}) | **${pct(undisputed.reason)}** (${undisputed.reasonOk}) |`);
lines.push(`| SMTP reply strings, undisputed labels | ${undisputedReplies.n} | ${pct(undisputedReplies.type)} | ${pct(undisputedReplies.reason)} |`, '');
lines.push(`Disputed labels (bench/classify-disputed.jsonl, each with its reason): ${rows.length - undisputedRows.length} file expectations and ${replyRows.length - undisputedReplies.n} SMTP strings. Stale entries: ${stale.length ? stale.join('; ') : 'none'}.`, '');
lines.push(`Of the ${overall.n - overall.typeOk} failure-type misses, ${filteredAsUnknown} are sisimai \`filtered\` labels on "user unknown" replies we keep Hard / User unknown (the report shows RCPT TO, or quotes no reply: the reporter's own verdict); without them the type agreement would be ${pct((overall.typeOk + filteredAsUnknown) / overall.n)}.`, '');
lines.push(`## Per MTA`, '', `| family/mta | n | type | reason |`, `|---|---|---|---|`);
for (const m of byMta) lines.push(`| ${m.key} | ${m.n} | ${pct(m.type)} | ${pct(m.reason)} |`);
lines.push('', `## Per sisimai reason`, '', `| reason | n | type | reason |`, `|---|---|---|---|`);
for (const m of byReason) lines.push(`| ${m.key} | ${m.n} | ${pct(m.type)} | ${pct(m.reason)} |`);
lines.push('', `## Misses by cause (${misses.length})`, '');
for (const [c, rs] of missGroups) lines.push(`- **${c}** ×${rs.length}: ${rs.map((r) => `${r.file}${r.expected.recipient ? ` <${r.expected.recipient}>` : ''} [${r.format}] «${r.got.message.replace(/\s+/g, ' ').slice(0, 140)}»`).join('; ')}`);
lines.push('', `## SMTP reply misses (${replyMisses.length})`, '');
for (const r of replyMisses) lines.push(`- ${cause(r)}: «${r.file}»${disputeOf(r) ? ' (disputed)' : ''}`);
lines.push('', `## Disputed labels (${disputed.length})`, '');
for (const d of disputed) lines.push(`- **${d.verdict}** ${d.file ? `${d.file}${d.recipient ? ` <${d.recipient}>` : ''}` : `«${d.reply}»`}: label ${d.label}${d.ours ? `, ours ${d.ours.type} / reason ${d.ours.reason}` : ''}. ${d.why}`);
lines.push('', `## Misses on undisputed labels (${misses.filter((r) => !disputeOf(r)).length})`, '');
for (const r of misses.filter((x) => !disputeOf(x))) lines.push(`- ${r.file}${r.expected.recipient ? ` <${r.expected.recipient}>` : ''}: ${cause(r)} «${r.got.message.replace(/\s+/g, ' ').slice(0, 140)}»`);
if (recipientByPosition.length) lines.push('', `Labels whose recipient is not in the file, matched by position: ${recipientByPosition.join('; ')}.`);

const outDir = join(root, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'classify-accuracy.md'), lines.join('\n') + '\n');
writeFileSync(join(outDir, 'classify-accuracy.json'), JSON.stringify({ corpus: corpusDir, overall, undisputed, undisputedReplies, disputed: disputed.length, stale, byFamily, byMta, byReason, replies, misses: misses.map((r) => ({ file: r.file, recipient: r.expected.recipient, expected: r.expected.reason, want: r.want, got: r.got, format: r.format })), rows: rows.map((r) => [r.file, r.expected.recipient, r.expected.reason, r.got.type, r.got.reason, r.typeOk, r.reasonOk]) }, null, 2));

console.log(`bounce files: ${overall.n} expectations; failure type ${pct(overall.type)}, reason ${pct(overall.reason)} (target ≥95 % / ≥90 %)`);
for (const f of byFamily) console.log(`  ${f.key.padEnd(10)} n=${String(f.n).padStart(3)}  type ${pct(f.type).padStart(7)}  reason ${pct(f.reason).padStart(7)}`);
console.log(`smtp reply strings: ${replies.n}; failure type ${pct(replies.type)}, reason ${pct(replies.reason)}`);
console.log(`undisputed labels: bounce files ${undisputed.n} expectations; failure type ${pct(undisputed.type)}, reason ${pct(undisputed.reason)}; smtp strings ${undisputedReplies.n}: type ${pct(undisputedReplies.type)}, reason ${pct(undisputedReplies.reason)}`);
console.log(`disputed: ${rows.length - undisputedRows.length} file expectations, ${replyRows.length - undisputedReplies.n} smtp strings (bench/classify-disputed.jsonl); stale entries: ${stale.length}${stale.length ? ` (${stale.join('; ')})` : ''}`);
console.log(`type misses that are sisimai 'filtered' labels on "user unknown" replies we keep Hard (RCPT TO shown, or the reporter's own verdict): ${filteredAsUnknown} (type agreement without them: ${pct((overall.typeOk + filteredAsUnknown) / overall.n)})`);
console.log(`misses by cause (top 15 of ${missGroups.length}):`);
for (const [c, rs] of missGroups.slice(0, 15)) console.log(`  ${String(rs.length).padStart(3)}  ${c}`);
console.log(`written: bench/results/classify-accuracy.md, .json`);
const failed = overall.type < 0.95 || overall.reason < 0.9 || stale.length > 0;
process.exitCode = process.env.BENCH_STRICT && failed ? 1 : 0;
