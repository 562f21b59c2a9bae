import { MtaEventCodec, QueuedMessageCodec, type MtaEvent, type Topics } from '@mta/contracts';
import { deadLetter, type Handler, type OutRecord, type SeenWindow } from '@mta/kafka';
import { validateRequest, type ValidationOptions } from './validate.ts';

export interface IngestDeps {
  topics: Pick<Topics, 'queue' | 'events' | 'deadLetter'>;
  validation: ValidationOptions;
  seen: SeenWindow;
  now?: () => Date;
  onAccepted?(capped: boolean): void;
  onRejected?(code: string): void;
  onDuplicate?(): void;
}

/**
 * validate → decide → emit. Accepted: the message on the queue (keyed by recipient domain) and
 * an `accepted` event. Rejected: the original on the dead-letter topic and, when a messageId can
 * be read, a `rejected` event so Campaign sees `failed` with the reason. A messageId already seen
 * in the dedupe window produces nothing.
 */
export function createIngestHandler(deps: IngestDeps): Handler {
  const now = deps.now ?? (() => new Date());
  return (rec) => {
    const t = now();
    const result = validateRequest(rec.value ?? Buffer.alloc(0), deps.validation, t);
    if (!result.ok) {
      const r = result.rejection;
      deps.onRejected?.(r.code);
      const out: OutRecord[] = [
        deadLetter(deps.topics.deadLetter, 'ingest', rec, { code: r.code, message: r.message, ...(r.field ? { field: r.field } : {}) }, r.messageId, t),
      ];
      if (r.messageId) {
        const event: MtaEvent = {
          v: 1,
          messageId: r.messageId,
          deliveryId: r.deliveryId ?? '',
          ...(r.tenant ? { tenant: r.tenant } : {}),
          recipient: r.recipient ?? '',
          event: 'rejected',
          attempt: 0,
          timestamp: t.toISOString(),
          failure: r.failure,
        };
        out.push({ topic: deps.topics.events, key: r.messageId, value: MtaEventCodec.encode(event) });
      }
      return out;
    }
    const m = result.message;
    if (deps.seen.checkAndAdd(m.messageId)) {
      deps.onDuplicate?.();
      return [];
    }
    deps.onAccepted?.(result.capped);
    const accepted: MtaEvent = {
      v: 1,
      messageId: m.messageId,
      deliveryId: m.deliveryId,
      ...(m.tenant ? { tenant: m.tenant } : {}),
      recipient: m.to,
      event: 'accepted',
      attempt: 0,
      timestamp: m.acceptedAt,
      validUntil: m.validUntil,
    };
    return [
      { topic: deps.topics.queue, key: m.recipientDomain, value: QueuedMessageCodec.encode(m) },
      { topic: deps.topics.events, key: m.messageId, value: MtaEventCodec.encode(accepted) },
    ];
  };
}
