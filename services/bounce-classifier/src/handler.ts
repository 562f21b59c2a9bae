import { AttemptCodec, MtaEventCodec, type MtaEvent, type Topics } from '@mta/contracts';
import { deadLetter, type Handler } from '@mta/kafka';
import { classifyAttempt } from './classify.ts';
import type { Rule } from './rules.ts';

export interface ClassifierDeps {
  topics: Pick<Topics, 'events' | 'deadLetter'>;
  rules: () => readonly Rule[];
  now?: () => Date;
  onClassified?(e: MtaEvent): void;
}

/** Qualifies each attempt outcome into Campaign's vocabulary and emits it as an event. */
export function createClassifierHandler(deps: ClassifierDeps): Handler {
  const now = deps.now ?? (() => new Date());
  return (rec) => {
    const decoded = AttemptCodec.decode(rec.value);
    if (!decoded.ok) return [deadLetter(deps.topics.deadLetter, 'bounce-classifier', rec, decoded.error)];
    const event = classifyAttempt(decoded.value, now(), deps.rules());
    deps.onClassified?.(event);
    return [{ topic: deps.topics.events, key: event.messageId, value: MtaEventCodec.encode(event) }];
  };
}
