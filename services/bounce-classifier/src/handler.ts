import { AttemptCodec, MtaEventCodec, type MtaEvent, type Topics } from '@mta/contracts';
import { deadLetter, type Handler } from '@mta/kafka';
import { classifyAttempt } from './classify.ts';
import type { Rule } from './rules.ts';
import type { RetryScheduler } from './retry/schedule.ts';

export interface ClassifierDeps {
  topics: Pick<Topics, 'events' | 'deadLetter'>;
  rules: () => readonly Rule[];
  now?: () => Date;
  onClassified?(e: MtaEvent): void;
  /** Retries (issue 5): soft bounces get a next attempt or expire; absent = events only. */
  retry?: RetryScheduler;
}

/** Qualifies each attempt outcome into Campaign's vocabulary and emits it as an event. */
export function createClassifierHandler(deps: ClassifierDeps): Handler {
  const now = deps.now ?? (() => new Date());
  return (rec) => {
    const decoded = AttemptCodec.decode(rec.value);
    if (!decoded.ok) return [deadLetter(deps.topics.deadLetter, 'bounce-classifier', rec, decoded.error)];
    const expired = deps.retry?.expiredBySender(decoded.value);
    if (expired) return expired;
    const event = classifyAttempt(decoded.value, now(), deps.rules());
    deps.onClassified?.(event);
    if (deps.retry && event.event === 'soft_bounce') return deps.retry.softBounce(decoded.value, event);
    return [{ topic: deps.topics.events, key: event.messageId, value: MtaEventCodec.encode(event) }];
  };
}
