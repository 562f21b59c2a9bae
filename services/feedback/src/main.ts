import { randomUUID } from 'node:crypto';
import { loadConfigOrExit, topicsOf } from '@mta/config';
import { createKafka, runStageService } from '@mta/kafka';
import { attributeSet } from '@mta/telemetry';
import { feedbackKeys } from './config.ts';
import { createFeedbackHandler } from './handler.ts';
import { startKpiPublisher } from './kpi-publisher.ts';
import { MessageStore } from './message-store.ts';
import { feedbackRoutes } from './routes.ts';
import { startStatusTail, type StatusTail } from './status-tail.ts';
import { StatusView } from './view.ts';

const config = loadConfigOrExit('feedback', feedbackKeys);
const topics = topicsOf(config);
const store = new MessageStore(config.stateEntries);
const view = new StatusView(store, { maxDeliveries: config.maxDeliveries, maxDomainsPerDelivery: config.domainsPerDelivery });
let tail: StatusTail | undefined;

await runStageService({
  service: 'feedback',
  config,
  inputTopic: topics.events,
  deadLetterTopic: topics.deadLetter,
  routes: feedbackRoutes({ view, rebuilt: () => tail?.isCaughtUp ?? false }),
  setup({ log, metrics }) {
    const m = metrics.meter;
    const published = m.createCounter('mta_status_published', { description: 'Status records published to Campaign, by status and event.' });
    const publishedAttrs = attributeSet('status', 'event');
    const snapshots = m.createCounter('mta_kpi_snapshots_published', { description: 'Delivery KPI snapshots published.' });
    const malformed = m.createCounter('mta_feedback_status_malformed', { description: 'Records of the status topic that are not StatusRecord v1 (skipped).' });
    m.createObservableGauge('mta_feedback_messages_tracked', { description: 'Messages whose state is in memory.' }).addCallback((r) => r.observe(store.size));
    m.createObservableGauge('mta_feedback_messages_evicted', { description: 'Messages forgotten because the state store was full (should stay 0).' }).addCallback((r) => r.observe(store.evicted));
    m.createObservableGauge('mta_feedback_deliveries_tracked', { description: 'Deliveries whose KPIs are in memory.' }).addCallback((r) => r.observe(view.deliveryCount));

    // mta.status is the changelog: read it whole (rebuild), then follow it (KPIs, state learnt
    // from other instances). Events wait until the rebuild is done.
    const kafka = createKafka(config.kafkaBrokers, `${config.kafkaClientId}-view`, log);
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    let publisher: ReturnType<typeof startKpiPublisher> | undefined;
    const rebuilt = (async () => {
      tail = await startStatusTail({
        kafka,
        topic: topics.status,
        groupId: `${config.groupId}-view-${randomUUID()}`,
        log,
        apply: (r) => view.apply(r),
        onMalformed: () => malformed.add(1),
      });
      await tail.caughtUp;
      await producer.connect();
      view.markDirty();
      publisher = startKpiPublisher({ producer, topic: topics.deliveryKpis, view, intervalMs: config.kpiIntervalMs, log, onPublished: (n) => snapshots.add(n) });
    })();
    rebuilt.catch((err: Error) => {
      log.fatal({ err: err.stack }, 'could not rebuild state from the status topic');
      process.exit(1);
    });
    return {
      handle: createFeedbackHandler({ topics, store, rebuilt, onPublished: (status, event) => published.add(1, publishedAttrs(status, event)) }),
      details: () => ({ rebuilt: tail?.isCaughtUp ?? false, tracked: store.size, evicted: store.evicted, deliveries: view.deliveryCount, statusApplied: view.applied }),
      close: async () => {
        // The stage has flushed its status records; let the tail read them so the last snapshot is current.
        await new Promise((r) => setTimeout(r, 300));
        await publisher?.stop();
        await tail?.stop();
        await producer.disconnect();
      },
      describe: { status: topics.status, kpis: topics.deliveryKpis },
    };
  },
});
