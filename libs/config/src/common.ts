import { DEFAULT_TOPICS, type TopicId } from '@mta/contracts';
import { hostPorts, int, oneOf, str, type Key } from './keys.ts';
import { telemetryKeys } from './telemetry.ts';

/** Keys every service shares: Kafka, HTTP, logging, topic names. */
export function commonKeys(service: string, defaultPort: number) {
  return {
    kafkaBrokers: hostPorts('KAFKA_BROKERS', 'Kafka bootstrap servers, comma-separated host:port.', '127.0.0.1:9092'),
    kafkaClientId: str('KAFKA_CLIENT_ID', 'Kafka client id of this instance.', `mta-${service}`),
    groupId: str('MTA_GROUP_ID', 'Consumer group of this service (one per service; instances share it).', `mta-${service}`),
    httpHost: str('MTA_HTTP_HOST', 'Address of the health/metrics HTTP listener.', '127.0.0.1'),
    httpPort: int('MTA_HTTP_PORT', 'Port of the health/metrics HTTP listener (0 = any free port).', defaultPort, 0, 65535),
    logLevel: oneOf('LOG_LEVEL', 'Log level.', ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const, 'info'),
    shutdownTimeoutMs: int('MTA_SHUTDOWN_TIMEOUT_MS', 'How long SIGTERM waits for in-flight work before committing what finished.', 15000, 0),
    ...topicKeys(),
    ...telemetryKeys(),
  };
}

const topicEnv: Record<TopicId, string> = {
  requests: 'MTA_TOPIC_REQUESTS',
  queue: 'MTA_TOPIC_QUEUE',
  deliveries: 'MTA_TOPIC_DELIVERIES',
  attempts: 'MTA_TOPIC_ATTEMPTS',
  events: 'MTA_TOPIC_EVENTS',
  status: 'MTA_TOPIC_STATUS',
  deadLetter: 'MTA_TOPIC_DEAD_LETTER',
  retry2m: 'MTA_TOPIC_RETRY_2M',
  retry10m: 'MTA_TOPIC_RETRY_10M',
  retry30m: 'MTA_TOPIC_RETRY_30M',
  retry2h: 'MTA_TOPIC_RETRY_2H',
  retry4h: 'MTA_TOPIC_RETRY_4H',
  deliveryKpis: 'MTA_TOPIC_DELIVERY_KPIS',
  shaping: 'MTA_TOPIC_SHAPING',
  siteQueue: 'MTA_TOPIC_SITE_QUEUE',
};

function topicKeys() {
  const keys = {} as Record<`topic_${TopicId}`, Key<string>>;
  for (const id of Object.keys(DEFAULT_TOPICS) as TopicId[]) {
    keys[`topic_${id}`] = str(topicEnv[id], `Name of the ${DEFAULT_TOPICS[id]} topic.`, DEFAULT_TOPICS[id]);
  }
  return keys;
}

export function topicsOf(config: Record<`topic_${TopicId}`, string>): Record<TopicId, string> {
  const out = {} as Record<TopicId, string>;
  for (const id of Object.keys(DEFAULT_TOPICS) as TopicId[]) out[id] = config[`topic_${id}`];
  return out;
}

export const TOPIC_ENV = topicEnv;
