import { readFileSync } from 'node:fs';
import {
  BOUNCE_CLASS_CODES,
  FAILURE_REASON_CODES,
  FAILURE_TYPES,
  type BounceClass,
  type FailureReasonCode,
  type FailureType,
} from '@mta/contracts';
import { CATEGORIES, SENDER_CATEGORIES, isCategory, type Category } from './categories.ts';
import { normalizeReply } from './normalize.ts';

/**
 * The reply-classification rule table, kept as data in `rules.txt` (format documented at the top
 * of that file). Parsing is pure (`parseRules`); reading the shipped file happens once
 * (`shippedRules`), and the compiled regexes are reused for every reply.
 */
export interface Rule {
  /** 1-based line of the rule in its file. */
  line: number;
  /** The pattern as written. */
  source: string;
  /** Compiled once, case-insensitive, matched against the normalised reply line. */
  pattern: RegExp;
  category: Category;
  bounceClass: BounceClass;
  reasonCode: FailureReasonCode;
  /** Failure type when the reply is permanent (5xx), about the recipient, in a recipient phase. */
  whenPermanent: FailureType;
  /**
   * `hard-if-rcpt` in the file: Hard only on confirmed evidence. When a bounce report quotes the
   * reply second-hand (it carries a reply code) without saying which command it answered and
   * without an X.1.1 status, the failure is Soft with the same reason (see classify.ts).
   */
  needsRcpt: boolean;
  /** About the sender (IP, reputation, auth, rate, spam, policy): never Hard; a shaping signal. */
  senderSignal: boolean;
  /** Real replies quoted above the rule (`#>` lines), checked by `checkSamples`. */
  samples: string[];
}

export interface RuleError {
  line: number;
  message: string;
}

export interface LoadedRules {
  rules: Rule[];
  errors: RuleError[];
}

export const FIELD_SEPARATOR = '|';
export const FIELDS = ['pattern', 'category', 'class', 'reason', 'if-permanent', 'about'] as const;
const SAMPLE_PREFIX = '#>';
const PARTIES = ['sender', 'recipient'] as const;
/** The `if-permanent` value for a Hard that needs confirmation (`needsRcpt`). */
export const HARD_IF_RCPT = 'hard-if-rcpt';

/** Parses rule-file text. Never throws: every bad line yields an error with its line number. */
export function parseRules(text: string): LoadedRules {
  const rules: Rule[] = [];
  const errors: RuleError[] = [];
  const seen = new Map<string, number>();
  let pending: { line: number; reply: string }[] = [];

  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '') return;
    if (trimmed.startsWith(SAMPLE_PREFIX)) {
      const reply = trimmed.slice(SAMPLE_PREFIX.length).trim();
      if (reply === '') errors.push({ line, message: 'empty sample (`#>` must be followed by a reply)' });
      else pending.push({ line, reply });
      return;
    }
    if (trimmed.startsWith('#')) return;

    const problems: string[] = [];
    const rule = parseRuleLine(trimmed, line, problems);
    const samples = pending.map((s) => s.reply);
    pending = [];
    if (!rule) {
      for (const message of problems) errors.push({ line, message });
      return;
    }
    const previous = seen.get(rule.source);
    if (previous !== undefined) {
      errors.push({ line, message: `duplicate pattern, already on line ${previous}` });
      return;
    }
    seen.set(rule.source, line);
    rule.samples = samples;
    rules.push(rule);
  });
  for (const s of pending) errors.push({ line: s.line, message: 'sample is not followed by a rule' });
  return { rules, errors };
}

function parseRuleLine(text: string, line: number, problems: string[]): Rule | undefined {
  const parts = text.split(FIELD_SEPARATOR);
  const fixed = FIELDS.length - 1;
  if (parts.length < FIELDS.length) {
    problems.push(`expected ${FIELDS.length} fields \`${FIELDS.join(' | ')}\`, found ${parts.length}`);
    return undefined;
  }
  // Fields after the pattern never contain `|`, so the pattern is everything before the last five.
  const source = parts.slice(0, parts.length - fixed).join(FIELD_SEPARATOR).trim();
  const [categoryText, classText, reasonText, typeText, partyText] = parts.slice(-fixed).map((p) => p.trim()) as [
    string,
    string,
    string,
    string,
    string,
  ];

  let pattern: RegExp | undefined;
  if (source === '') problems.push('empty pattern');
  else {
    try {
      pattern = new RegExp(source, 'i');
      if (pattern.test('')) {
        problems.push(`pattern /${source}/ matches an empty reply, so it would match every reply`);
        pattern = undefined;
      }
    } catch (err) {
      problems.push(`invalid pattern: ${(err as Error).message}`);
    }
  }
  if (!isCategory(categoryText)) problems.push(`unknown category "${categoryText}" (one of: ${CATEGORIES.join(', ')})`);
  const bounceClass = Number(classText);
  if (!/^\d+$/.test(classText) || !(BOUNCE_CLASS_CODES as number[]).includes(bounceClass)) {
    problems.push(`unknown bounce class "${classText}" (one of: ${BOUNCE_CLASS_CODES.join(', ')})`);
  }
  const reasonCode = Number(reasonText);
  if (!/^\d+$/.test(reasonText) || !(FAILURE_REASON_CODES as number[]).includes(reasonCode)) {
    problems.push(`unknown failure reason code "${reasonText}" (one of: ${FAILURE_REASON_CODES.join(', ')})`);
  }
  const needsRcpt = typeText === HARD_IF_RCPT;
  const typeName = needsRcpt ? 'hard' : typeText;
  if (!(FAILURE_TYPES as readonly string[]).includes(typeName)) {
    problems.push(`unknown failure type "${typeText}" (one of: ${[...FAILURE_TYPES, HARD_IF_RCPT].join(', ')})`);
  }
  if (!(PARTIES as readonly string[]).includes(partyText)) {
    problems.push(`unknown party "${partyText}" (one of: ${PARTIES.join(', ')})`);
  }
  const senderSignal = partyText === 'sender';
  if (senderSignal && typeName === 'hard') problems.push('a rule about the sender can never be hard (BRIEF §3)');
  if (isCategory(categoryText) && SENDER_CATEGORIES.has(categoryText) && partyText === 'recipient') {
    problems.push(`category "${categoryText}" is about the sender: its rules must say \`sender\``);
  }
  if (problems.length > 0 || !pattern || !isCategory(categoryText)) return undefined;

  return {
    line,
    source,
    pattern,
    category: categoryText,
    bounceClass: bounceClass as BounceClass,
    reasonCode: reasonCode as FailureReasonCode,
    whenPermanent: typeName as FailureType,
    needsRcpt,
    senderSignal,
    samples: [],
  };
}

/** First rule matching an already-normalised reply line. */
export function matchRule(rules: readonly Rule[], line: string): Rule | undefined {
  for (const rule of rules) if (rule.pattern.test(line)) return rule;
  return undefined;
}

/** Reads and parses a rule file. */
export function loadRuleFile(path: string | URL): LoadedRules {
  return parseRules(readFileSync(path, 'utf8'));
}

export const SHIPPED_RULES_URL = new URL('../src/rules.txt', import.meta.url) // resolves from src/ and from the bundle in dist/;

let shipped: readonly Rule[] | undefined;
/**
 * The rules shipped with the service, read and compiled once. The shipped file must be clean: an
 * error in it throws at first use (start-up), with every line number.
 */
export function shippedRules(): readonly Rule[] {
  if (shipped) return shipped;
  const { rules, errors } = loadRuleFile(SHIPPED_RULES_URL);
  if (errors.length > 0) {
    throw new Error(`rules.txt has ${errors.length} error(s):\n${errors.map((e) => `  line ${e.line}: ${e.message}`).join('\n')}`);
  }
  shipped = Object.freeze(rules);
  return shipped;
}

/** A sample reply and the line of the rule it illustrates. */
export interface RuleSample {
  line: number;
  reply: string;
}

export interface ShadowedRule {
  rule: Rule;
  sample: string;
  /** The earlier rule that matches the sample first. */
  by: Rule;
}

export interface UnmatchedSample {
  rule: Rule;
  sample: string;
  /** The rule that matches instead, if any. */
  matchedBy?: Rule;
}

/** The `#>` samples of every rule. */
export function ruleSamples(rules: readonly Rule[]): RuleSample[] {
  return rules.flatMap((rule) => rule.samples.map((reply) => ({ line: rule.line, reply })));
}

/**
 * Rules whose sample is matched by an earlier rule (the rule is dead for that reply), and samples
 * that their own rule does not match at all (the pattern or the sample is wrong).
 */
export function checkSamples(
  rules: readonly Rule[],
  samples: readonly RuleSample[] = ruleSamples(rules),
): { shadowed: ShadowedRule[]; unmatched: UnmatchedSample[] } {
  const byLine = new Map(rules.map((r, i) => [r.line, i] as const));
  const shadowed: ShadowedRule[] = [];
  const unmatched: UnmatchedSample[] = [];
  for (const sample of samples) {
    const own = byLine.get(sample.line);
    if (own === undefined) continue;
    const rule = rules[own]!;
    const line = normalizeReply({ response: sample.reply }).line;
    const first = rules.findIndex((r) => r.pattern.test(line));
    if (first === own) continue;
    if (!rule.pattern.test(line)) {
      unmatched.push(first === -1 ? { rule, sample: sample.reply } : { rule, sample: sample.reply, matchedBy: rules[first]! });
    } else shadowed.push({ rule, sample: sample.reply, by: rules[first]! });
  }
  return { shadowed, unmatched };
}

/** Rules whose sample is matched by an earlier rule. */
export function shadowedRules(rules: readonly Rule[], samples: readonly RuleSample[] = ruleSamples(rules)): ShadowedRule[] {
  return checkSamples(rules, samples).shadowed;
}
