/**
 * Campaign's vocabulary (BRIEF §2-4): delivery-log statuses, failure types and reasons, and the
 * Momentum/SparkPost bounce classes. These are the values that cross the edge to Campaign.
 */

export const STATUSES = ['taken_into_account', 'sent', 'failed'] as const;
export type Status = (typeof STATUSES)[number];

export const EVENTS = [
  'accepted',
  'delivered',
  'soft_bounce',
  'hard_bounce',
  'expired',
  'rejected',
  'async_bounce',
  'complaint',
] as const;
export type EventName = (typeof EVENTS)[number];

export const FAILURE_TYPES = ['hard', 'soft', 'ignored'] as const;
export type FailureType = (typeof FAILURE_TYPES)[number];

/** Campaign's failure reasons, by code (BRIEF §3). */
export const FAILURE_REASONS = {
  0: 'Not defined',
  1: 'User unknown',
  2: 'Invalid domain',
  3: 'Unreachable',
  4: 'Account disabled',
  5: 'Mailbox full',
  7: 'Address not specified',
  8: 'Denylisted address',
  9: 'Address in quarantine',
  20: 'Refused',
  25: 'Error ignored',
} as const;
export type FailureReasonCode = keyof typeof FAILURE_REASONS;
export type FailureReason = (typeof FAILURE_REASONS)[FailureReasonCode];
export const FAILURE_REASON_CODES = Object.keys(FAILURE_REASONS).map(Number) as FailureReasonCode[];

/** Momentum / SparkPost bounce classes (BRIEF §4). */
export const BOUNCE_CLASSES = {
  1: 'Undetermined',
  10: 'Invalid Recipient',
  20: 'Soft Bounce',
  21: 'DNS Failure',
  22: 'Mailbox Full',
  23: 'Too Large',
  24: 'Timeout',
  25: 'Admin Failure',
  30: 'Generic Bounce: No RCPT',
  40: 'Generic Bounce',
  50: 'Mail Block',
  51: 'Spam Block',
  52: 'Spam Content',
  53: 'Prohibited Attachment',
  54: 'Relaying Denied',
  60: 'Auto-Reply',
  70: 'Transient Failure',
  80: 'Subscribe',
  90: 'Unsubscribe',
  100: 'Challenge-Response',
} as const;
export type BounceClass = keyof typeof BOUNCE_CLASSES;
export const BOUNCE_CLASS_CODES = Object.keys(BOUNCE_CLASSES).map(Number) as BounceClass[];

/** A qualified failure, as it travels on mta.events and reaches Campaign on mta.status. */
export interface Failure {
  type: FailureType;
  reasonCode: FailureReasonCode;
  reason: FailureReason;
  bounceClass: BounceClass;
  /** Fine internal category (e.g. `bad-mailbox`, `rate-limited`), mapped to the reason at the edge. */
  category: string;
  /** Human-readable, specific explanation (the SMTP reply or the validation error). */
  message: string;
}

export function failure(
  type: FailureType,
  reasonCode: FailureReasonCode,
  bounceClass: BounceClass,
  category: string,
  message: string,
): Failure {
  return { type, reasonCode, reason: FAILURE_REASONS[reasonCode], bounceClass, category, message };
}
