import { DeadLetterCodec, type DeadLetter, type DeadLetterCode } from '@mta/contracts';
import type { OutRecord } from './batch-producer.ts';
import type { InRecord } from './in-record.ts';

const MAX_TEXT = 64 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function asText(bytes: Buffer): string | undefined {
  if (bytes.length > MAX_TEXT) return undefined;
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** A dead-letter record for a source record: original bytes, where it came from, a specific error. */
export function deadLetter(
  topic: string,
  service: string,
  rec: InRecord,
  error: { code: DeadLetterCode; message: string; field?: string },
  messageId?: string,
  now = new Date(),
): OutRecord {
  const bytes = rec.value ?? Buffer.alloc(0);
  const text = asText(bytes);
  const value: DeadLetter = {
    v: 1,
    service,
    error,
    source: {
      topic: rec.topic,
      partition: rec.partition,
      offset: rec.offset,
      key: rec.key === null ? null : rec.key.toString('utf8'),
      timestamp: new Date(Number(rec.timestamp)).toISOString(),
    },
    ...(messageId ? { messageId } : {}),
    original: bytes.toString('base64'),
    ...(text === undefined ? {} : { originalText: text }),
    at: now.toISOString(),
  };
  return { topic, key: rec.key === null ? null : rec.key.toString('utf8'), value: DeadLetterCodec.encode(value) };
}
