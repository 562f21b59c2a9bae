import { failure, type Failure } from '@mta/contracts';

/**
 * The failure a message leaves with when its validity period ended undelivered (BRIEF §5):
 * bounce class 24 (Timeout), and the Campaign reason of the last soft bounce it had, so Campaign
 * sees *why* it could not be delivered ("Mailbox full", "Refused", ...). Without a previous
 * failure (it expired before any attempt) the reason is "Unreachable".
 */
export function expiredFailure(last: Failure | undefined, validUntil: string, attemptsMade: number): Failure {
  const why = last ? `; last failure: ${last.message}` : '';
  const message = `validity period ended at ${validUntil} after ${attemptsMade} attempt${attemptsMade === 1 ? '' : 's'}${why}`;
  return failure(last?.type === 'ignored' ? 'ignored' : 'soft', last?.reasonCode ?? 3, 24, 'message-expired', message.slice(0, 1000));
}

/** A finite retry schedule ran out before the validity period: same shape, says so. */
export function exhaustedFailure(last: Failure, schedule: string, attemptsMade: number): Failure {
  const message = `retry schedule "${schedule}" exhausted after ${attemptsMade} attempts; last failure: ${last.message}`;
  return failure(last.type === 'ignored' ? 'ignored' : 'soft', last.reasonCode, 24, 'message-expired', message.slice(0, 1000));
}
