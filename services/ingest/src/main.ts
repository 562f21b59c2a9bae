import { loadConfigOrExit, topicsOf } from '@mta/config';
import { runStageService, SeenWindow } from '@mta/kafka';
import { ingestKeys } from './config.ts';
import { createIngestHandler } from './handler.ts';

const config = loadConfigOrExit('ingest', ingestKeys);
const topics = topicsOf(config);

await runStageService({
  service: 'ingest',
  config,
  inputTopic: topics.requests,
  deadLetterTopic: topics.deadLetter,
  setup({ metrics }) {
    const accepted = metrics.meter.createCounter('mta_ingest_accepted', { description: 'Requests accepted; capped=true when validity was cut to the cap.' });
    const rejected = metrics.meter.createCounter('mta_ingest_rejected', { description: 'Requests rejected, by error code.' });
    const duplicates = metrics.meter.createCounter('mta_ingest_duplicates', { description: 'Repeated messageIds dropped inside the dedupe window.' });
    const seen = new SeenWindow(config.dedupeWindowEntries, config.dedupeWindowHours * 3600_000);
    return {
      handle: createIngestHandler({
        topics,
        validation: { maxMessageBytes: config.maxMessageBytes, validityCapMs: config.validityCapHours * 3600_000 },
        seen,
        onAccepted: (capped) => accepted.add(1, { capped: String(capped) }),
        onRejected: (code) => rejected.add(1, { code }),
        onDuplicate: () => duplicates.add(1),
      }),
      details: () => ({ dedupeWindow: seen.size }),
    };
  },
});
