/**
 * The fine categories a reply is classified into (BRIEF §4: "keep a fine category internally and
 * map it to Campaign's reason and type at the edge"). Closed: the rule loader rejects any other
 * name, so a typo in rules.txt is a line-numbered error, not a silent new category.
 */
export const CATEGORIES = [
  // about the recipient
  'bad-mailbox',
  'bad-domain',
  'inactive-mailbox',
  'quota-issues',
  'message-too-large',
  'blocked-by-recipient',
  'greylisted',
  'relaying-denied',
  'content-related',
  'protocol-error',
  'tls-failure',
  'routing-error',
  'remote-system-error',
  'no-answer-from-host',
  'dns-failure',
  'message-expired',
  'auto-reply',
  'undetermined',
  // a feedback-loop complaint (RFC 5965): the recipient reported the message; Campaign denylists
  'complaint',
  // about the sender (never Hard; signals for traffic shaping)
  'rate-limited',
  'ip-reputation',
  'spam-related',
  'policy-related',
  'auth-failure',
  'ptr-required',
  'sender-rejected',
] as const;
export type Category = (typeof CATEGORIES)[number];

/**
 * Categories that are about the sender (IP blocked, reputation, authentication, rate limiting,
 * spam content, policy): a rule with one of these must be flagged `sender`, which makes it Soft
 * whatever the reply code (BRIEF §3). Other categories may still be flagged `sender` by a rule.
 */
export const SENDER_CATEGORIES: ReadonlySet<Category> = new Set<Category>([
  'rate-limited',
  'ip-reputation',
  'spam-related',
  'policy-related',
  'auth-failure',
  'ptr-required',
  'sender-rejected',
]);

const CATEGORY_SET: ReadonlySet<string> = new Set(CATEGORIES);
export function isCategory(value: string): value is Category {
  return CATEGORY_SET.has(value);
}
