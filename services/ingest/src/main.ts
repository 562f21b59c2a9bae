import { loadConfigOrExit, topicsOf } from '@mta/config';
import { createKafka, SeenWindow, Stage } from '@mta/kafka';
import { runService, stageMetrics } from '@mta/telemetry';
import { ingestKeys } from './config.ts';
import { createIngestHandler } from './handler.ts';

const config = loadConfigOrExit('ingest', ingestKeys);
const topics = topicsOf(config);

await runService({
  service: 'ingest',
  logLevel: config.logLevel,
  httpHost: config.httpHost,
  httpPort: config.httpPort,
  async start({ log, metrics }) {
    const accepted = metrics.meter.createCounter('mta_ingest_accepted', { description: 'Requests accepted; capped=true when validity was cut to the cap.' });
    const rejected = metrics.meter.createCounter('mta_ingest_rejected', { description: 'Requests rejected, by error code.' });
    const duplicates = metrics.meter.createCounter('mta_ingest_duplicates', { description: 'Repeated messageIds dropped inside the dedupe window.' });
    const seen = new SeenWindow(config.dedupeWindowEntries, config.dedupeWindowHours * 3600_000);
    let stage: Stage | undefined = undefined;
    stage = new Stage({
      service: 'ingest',
      kafka: createKafka(config.kafkaBrokers, config.kafkaClientId, log),
      groupId: config.groupId,
      topics: [topics.requests],
      deadLetterTopic: topics.deadLetter,
      log,
      maxInFlight: config.maxInFlight,
      hooks: stageMetrics(metrics.meter, () => stage?.inFlightCount ?? 0),
      handle: createIngestHandler({
        topics,
        validation: { maxMessageBytes: config.maxMessageBytes, validityCapMs: config.validityCapHours * 3600_000 },
        seen,
        onAccepted: (capped) => accepted.add(1, { capped: String(capped) }),
        onRejected: (code) => rejected.add(1, { code }),
        onDuplicate: () => duplicates.add(1),
      }),
    });
    await stage.start();
    log.info({ topic: topics.requests, brokers: config.kafkaBrokers }, 'consuming requests');
    const s = stage;
    return {
      readiness: () => ({ ready: s.ready, details: { inFlight: s.inFlightCount } }),
      stop: () => s.stop(config.shutdownTimeoutMs),
    };
  },
});
