import { createHash } from 'node:crypto';
import { ruleFor, stepAfter, type PolicyRule, type RetryPolicy } from './policy.ts';

export interface NextAttemptInput {
  now: Date;
  /** Number of the attempt that just failed (1 = the first delivery attempt). */
  attempt: number;
  category: string;
  domain: string;
  mxHost?: string | undefined;
  validUntil: Date;
  policy: RetryPolicy;
  /** Makes the jitter deterministic, so a replayed attempt schedules the same time: messageId. */
  jitterSeed: string;
}

export type NextAttempt =
  /** Try again at `at`. */
  | { kind: 'retry'; at: Date; waitMs: number; rule: PolicyRule }
  /**
   * The next step would land after the validity period: the message waits until `at` =
   * validUntil and then expires (never earlier, and never later than one retry step).
   */
  | { kind: 'wait-for-expiry'; at: Date; waitMs: number; rule: PolicyRule }
  /** The validity period is already over. */
  | { kind: 'expired' }
  /** A finite schedule (no `...`) ran out before the validity period did. */
  | { kind: 'exhausted'; rule: PolicyRule };

/**
 * A number in [0, 1) from a seed: the same seed always gives the same number (a replayed record
 * is scheduled identically), different messages spread evenly.
 */
export function unitHash(seed: string): number {
  return createHash('sha256').update(seed).digest().readUInt32BE(0) / 2 ** 32;
}

/** `ms` spread over ±`jitter` (a fraction), deterministically from the seed. */
export function jittered(ms: number, jitter: number, seed: string): number {
  return Math.round(ms * (1 + jitter * (2 * unitHash(seed) - 1)));
}

/**
 * When to try a message again after a soft or ignored failure. Pure: the clock, the policy and
 * the seed are inputs. The step comes from the first policy rule matching the failure's
 * category, the recipient domain and the MX host; it is spread by the policy's jitter; it never
 * goes past `validUntil`.
 */
export function nextAttemptAt(input: NextAttemptInput): NextAttempt {
  const now = input.now.getTime();
  const end = input.validUntil.getTime();
  if (!(now < end)) return { kind: 'expired' };
  const rule = ruleFor(input.policy, { category: input.category, domain: input.domain, mxHost: input.mxHost });
  const step = stepAfter(rule.schedule, input.attempt);
  if (step === undefined) return { kind: 'exhausted', rule };
  const waitMs = jittered(step, input.policy.jitter, `${input.jitterSeed}:${input.attempt}`);
  if (now + waitMs >= end) return { kind: 'wait-for-expiry', at: new Date(end), waitMs: end - now, rule };
  return { kind: 'retry', at: new Date(now + waitMs), waitMs, rule };
}
