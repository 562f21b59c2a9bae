import { loadConfigOrExit, topicsOf } from '@mta/config';
import { runStageService } from '@mta/kafka';
import { feedbackKeys } from './config.ts';
import { createFeedbackHandler } from './handler.ts';
import { StateStore } from './state-store.ts';

const config = loadConfigOrExit('feedback', feedbackKeys);
const topics = topicsOf(config);

await runStageService({
  service: 'feedback',
  config,
  inputTopic: topics.events,
  deadLetterTopic: topics.deadLetter,
  setup({ metrics }) {
    const published = metrics.meter.createCounter('mta_status_published', { description: 'Status records published to Campaign, by status and event.' });
    const store = new StateStore(config.stateEntries);
    metrics.meter.createObservableGauge('mta_feedback_messages_tracked', { description: 'Messages whose state is in memory.' }).addCallback((r) => r.observe(store.size));
    return {
      handle: createFeedbackHandler({ topics, store, onPublished: (status, event) => published.add(1, { status, event }) }),
      details: () => ({ tracked: store.size }),
      describe: { status: topics.status },
    };
  },
});
