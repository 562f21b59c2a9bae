export { CATEGORIES, SENDER_CATEGORIES, isCategory, type Category } from './categories.ts';
export { normalizeReply, MAX_REPLY_CHARS, type NormalizedReply, type ReplyParts } from './normalize.ts';
export {
  parseRules,
  loadRuleFile,
  shippedRules,
  matchRule,
  ruleSamples,
  checkSamples,
  shadowedRules,
  SHIPPED_RULES_URL,
  FIELDS,
  type Rule,
  type RuleError,
  type LoadedRules,
  type RuleSample,
  type ShadowedRule,
  type UnmatchedSample,
} from './rules.ts';
export {
  classifyReply,
  classifyAttempt,
  canBeHard,
  TRANSPORT_ERRORS,
  type ReplyInput,
  type Classification,
} from './classify.ts';
export { parseBounce, TRACE_HEADER } from './bounce/parse.ts';
export { qualifyReport, qualifyRecipient, type QualifiedRecipient, type RecipientOutcome } from './bounce/qualify.ts';
export type { BounceReport, BounceRecipient, ReportKind, DsnAction, OriginalMessage, FeedbackInfo } from './bounce/report.ts';
export { correlate, type Correlation, type MatchedBy } from './listener/correlate.ts';
export { decideIntake, type IntakeDecision, type IntakeResult } from './listener/intake.ts';
export { watchRules, type RuleSource, type ReloadResult } from './rules-watch.ts';
