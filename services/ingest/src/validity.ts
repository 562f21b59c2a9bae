/**
 * The validity period: what Campaign asked for, honoured up to a cap (3.5 days by default)
 * counted from when the message reached the MTA (BRIEF §5).
 */
export const DEFAULT_VALIDITY_CAP_MS = 3.5 * 24 * 3600 * 1000;

export type Validity = { ok: true; validUntil: Date; capped: boolean } | { ok: false; code: 'invalid_field' | 'validity_expired'; message: string };

export function effectiveValidity(requested: string | undefined, acceptedAt: Date, capMs = DEFAULT_VALIDITY_CAP_MS): Validity {
  const cap = new Date(acceptedAt.getTime() + capMs);
  if (requested === undefined) return { ok: true, validUntil: cap, capped: false };
  // ISO 8601 with a date and, if a time is given, a zone; Date.parse alone accepts too much.
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}))?$/.test(requested)) {
    return { ok: false, code: 'invalid_field', message: `validUntil "${requested}" is not an ISO 8601 date-time with a time zone` };
  }
  const t = Date.parse(requested);
  if (Number.isNaN(t)) return { ok: false, code: 'invalid_field', message: `validUntil "${requested}" is not a valid date` };
  if (t <= acceptedAt.getTime()) return { ok: false, code: 'validity_expired', message: `validUntil ${requested} is already past on arrival (${acceptedAt.toISOString()})` };
  return t > cap.getTime() ? { ok: true, validUntil: cap, capped: true } : { ok: true, validUntil: new Date(t), capped: false };
}
