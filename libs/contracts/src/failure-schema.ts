import { Type } from '@sinclair/typebox';
import { BOUNCE_CLASS_CODES, EVENTS, FAILURE_REASON_CODES, FAILURE_REASONS, FAILURE_TYPES, STATUSES } from './campaign.ts';

const literals = <T extends string | number>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

export const StatusField = literals(STATUSES);
export const EventField = literals(EVENTS);
export const FailureTypeField = literals(FAILURE_TYPES);
export const FailureReasonCodeField = literals(FAILURE_REASON_CODES);
export const FailureReasonField = literals(Object.values(FAILURE_REASONS));
export const BounceClassField = literals(BOUNCE_CLASS_CODES);

export const FailureSchema = Type.Object({
  type: FailureTypeField,
  reasonCode: FailureReasonCodeField,
  reason: FailureReasonField,
  bounceClass: BounceClassField,
  category: Type.String(),
  message: Type.String(),
});
