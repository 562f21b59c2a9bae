import { MtaEventCodec, StatusRecordCodec, type Topics } from '@mta/contracts';
import { deadLetter, type Handler, type OutRecord } from '@mta/kafka';
import { foldEvent } from './fold.ts';
import type { MessageStore } from './message-store.ts';

export interface FeedbackDeps {
  topics: Pick<Topics, 'status' | 'deadLetter'>;
  store: MessageStore;
  /** Resolves once the state has been rebuilt from mta.status; events wait for it. */
  rebuilt?: Promise<void>;
  onPublished?(status: string, event: string): void;
}

/** Folds each event into the message's state and publishes Campaign's status when it changes. */
export function createFeedbackHandler(deps: FeedbackDeps): Handler {
  const handle = (rec: Parameters<Handler>[0]): OutRecord[] => {
    const decoded = MtaEventCodec.decode(rec.value);
    if (!decoded.ok) return [deadLetter(deps.topics.deadLetter, 'feedback', rec, decoded.error)];
    const e = decoded.value;
    const { state, publish } = foldEvent(deps.store.get(e.messageId, 'fold'), e);
    if (!publish || !state) return [];
    deps.store.set(e.messageId, 'fold', state);
    deps.onPublished?.(publish.status, publish.event);
    return [{ topic: deps.topics.status, key: e.messageId, value: StatusRecordCodec.encode(publish) }];
  };
  if (!deps.rebuilt) return handle;
  const rebuilt = deps.rebuilt;
  let done = false;
  void rebuilt.then(() => (done = true));
  // Records wait in offset order: continuations of one promise run in the order they were added.
  return (rec) => (done ? handle(rec) : rebuilt.then(() => handle(rec)));
}
