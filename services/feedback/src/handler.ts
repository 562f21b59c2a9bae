import { MtaEventCodec, StatusRecordCodec, type Topics } from '@mta/contracts';
import { deadLetter, type Handler } from '@mta/kafka';
import { foldEvent } from './fold.ts';
import type { StateStore } from './state-store.ts';

export interface FeedbackDeps {
  topics: Pick<Topics, 'status' | 'deadLetter'>;
  store: StateStore;
  onPublished?(status: string, event: string): void;
}

/** Folds each event into the message's state and publishes Campaign's status when it changes. */
export function createFeedbackHandler(deps: FeedbackDeps): Handler {
  return (rec) => {
    const decoded = MtaEventCodec.decode(rec.value);
    if (!decoded.ok) return [deadLetter(deps.topics.deadLetter, 'feedback', rec, decoded.error)];
    const e = decoded.value;
    const { state, publish } = foldEvent(deps.store.get(e.messageId), e);
    deps.store.set(e.messageId, state);
    if (!publish) return [];
    deps.onPublished?.(publish.status, publish.event);
    return [{ topic: deps.topics.status, key: e.messageId, value: StatusRecordCodec.encode(publish) }];
  };
}
