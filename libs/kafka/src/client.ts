import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import { patchKafkajsIdleLoop } from './kafkajs-patch.ts';
import { patchKafkajsEncoder, patchKafkajsRecordEncoder } from './kafkajs-encoder.ts';
import { patchKafkajsRecordDecoder } from './kafkajs-decoder.ts';
import { patchKafkajsProduceRequest } from './kafkajs-produce.ts';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
// kafkajs's idle timer loop (kafkajs-patch.ts), for every process that loads @mta/kafka: bundles and tsx alike.
patchKafkajsIdleLoop(import.meta.url);
// kafkajs's encoder and record decoder without their per-record allocations (kafkajs-encoder.ts,
// kafkajs-decoder.ts); the bundles
// apply it first thing (dist/kafkajs-patch.cjs), this covers tsx processes (tests, benches).
patchKafkajsEncoder(import.meta.url);
patchKafkajsRecordEncoder(import.meta.url);
patchKafkajsProduceRequest(import.meta.url);
patchKafkajsRecordDecoder(import.meta.url);

export interface LogSink {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/** A kafkajs client whose logs go to the service's structured logger. */
export function createKafka(brokers: string[], clientId: string, log?: LogSink): Kafka {
  return new Kafka({
    clientId,
    brokers,
    connectionTimeout: 3000,
    requestTimeout: 30000,
    retry: { initialRetryTime: 200, retries: 8 },
    logLevel: log ? logLevel.WARN : logLevel.NOTHING,
    logCreator: () => (entry: LogEntry) => {
      if (!log) return;
      const { message, ...rest } = entry.log;
      const obj = { kafka: { namespace: entry.namespace, ...rest } };
      if (entry.level === logLevel.ERROR) log.error(obj, message);
      else if (entry.level === logLevel.WARN) log.warn(obj, message);
      else if (entry.level === logLevel.INFO) log.info(obj, message);
      else log.debug(obj, message);
    },
  });
}
