import { loadConfigOrExit, topicsOf } from '@mta/config';
import { createKafka, rebuildSeenWindow, runStageService, SeenWindow } from '@mta/kafka';
import { attributeSet } from '@mta/telemetry';
import { acceptedId } from './rebuild.ts';
import { ingestKeys } from './config.ts';
import { createIngestHandler } from './handler.ts';

const config = loadConfigOrExit('ingest', ingestKeys);
const topics = topicsOf(config);

await runStageService({
  service: 'ingest',
  config,
  inputTopic: topics.requests,
  deadLetterTopic: topics.deadLetter,
  setup({ metrics, log }) {
    const accepted = metrics.meter.createCounter('mta_ingest_accepted', { description: 'Requests accepted; capped=true when validity was cut to the cap.' });
    const cappedAttrs = attributeSet('capped');
    const rejected = metrics.meter.createCounter('mta_ingest_rejected', { description: 'Requests rejected, by error code.' });
    const duplicates = metrics.meter.createCounter('mta_ingest_duplicates', { description: 'Repeated messageIds dropped inside the dedupe window.' });
    const seen = new SeenWindow(config.dedupeWindowEntries, config.dedupeWindowHours * 3600_000);
    // The window survives a restart: the `accepted` events this service produced are read back
    // first, and requests wait until then (a replay after a crash is still recognised).
    const windowMs = config.dedupeWindowHours * 3600_000;
    const rebuilt =
      config.dedupeRebuildRecords > 0 && config.dedupeWindowEntries > 0
        ? rebuildSeenWindow(seen, {
            kafka: createKafka(config.kafkaBrokers, `${config.kafkaClientId}-dedupe`, log),
            topic: topics.events,
            log,
            sinceMs: Date.now() - windowMs,
            maxRecords: config.dedupeRebuildRecords,
            pick: acceptedId,
          })
        : Promise.resolve({ records: 0, ids: 0 });
    rebuilt.catch((err: Error) => {
      log.fatal({ err: err.stack }, 'could not rebuild the dedupe window from the events topic');
      process.exit(1);
    });
    let ready = false;
    void rebuilt.then(() => (ready = true));
    const handle = createIngestHandler({
        topics,
        validation: { maxMessageBytes: config.maxMessageBytes, validityCapMs: config.validityCapHours * 3600_000 },
        seen,
        onAccepted: (capped) => accepted.add(1, cappedAttrs(String(capped))),
        onRejected: (code) => rejected.add(1, { code }),
        onDuplicate: () => duplicates.add(1),
      });
    return {
      // Records wait in offset order: continuations of one promise run in the order they were added.
      handle: (rec) => (ready ? handle(rec) : rebuilt.then(() => handle(rec))),
      details: () => ({ dedupeWindow: seen.size, dedupeRebuilt: ready }),
    };
  },
});
