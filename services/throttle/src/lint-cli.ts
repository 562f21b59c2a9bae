/**
 * `npm run lint:shaping [file...]`: parses and lints shaping rule files (default: the shipped
 * one). Exits 1 on any error or finding (rules that can never match, overlaps, shadowed rules).
 */
import { lintShapingRules, parseShapingRules } from '@mta/shaping';
import { readFileSync } from 'node:fs';
import { DEFAULT_RULES_FILE } from './config.ts';

const files = process.argv.slice(2).length ? process.argv.slice(2) : [DEFAULT_RULES_FILE];
let bad = 0;
for (const f of files) {
  const p = parseShapingRules(readFileSync(f, 'utf8'));
  if (!p.ok) {
    for (const e of p.errors) console.log(`${f}: error: ${e}`);
    bad += p.errors.length;
    continue;
  }
  const findings = lintShapingRules(p.rules);
  for (const x of findings) console.log(`${f}: ${x.kind}: ${x.where} ${x.message}`);
  bad += findings.length;
  if (findings.length === 0) console.log(`${f}: ok (${p.rules.providers.length} providers)`);
}
process.exit(bad ? 1 : 0);
