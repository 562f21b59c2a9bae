import type { Topics } from '@mta/contracts';
import { createKafka } from '@mta/kafka';
import type { Logger, Metrics } from '@mta/telemetry';

type Meter = Metrics['meter'];
type Counter = ReturnType<Meter['createCounter']>;
import type { RuleSource } from '../rules-watch.ts';
import { decideIntake } from './intake.ts';
import { startBounceListener } from './smtp.ts';

export interface IntakeConfig {
  kafkaBrokers: string[];
  kafkaClientId: string;
  bounceListen: { host: string; port: number } | undefined;
  bounceDomains: string[];
  bounceMessageIdDomains: string[];
  bounceMaxBytes: number;
  bounceMaxConnectionsPerClient: number;
  bounceMaxMessagesPerConnection: number;
  bounceMaxClients: number;
}

export interface Intake {
  port: number;
  setMetrics(meter: Meter): void;
  close(): Promise<void>;
}

/**
 * Wires the listener to Kafka: each inbound message is decided (`decideIntake`) and its records
 * produced with acks from all in-sync replicas before the SMTP client hears 250. Returns undefined
 * when no listener is configured. Exits with 78 (configuration error) when it is configured
 * without bounce domains.
 */
export async function startIntake(config: IntakeConfig, topics: Topics, rules: RuleSource, log: Logger): Promise<Intake | undefined> {
  if (!config.bounceListen) return undefined;
  if (config.bounceDomains.length === 0) {
    log.fatal({ key: 'MTA_BOUNCE_DOMAINS' }, 'MTA_BOUNCE_LISTEN is set but MTA_BOUNCE_DOMAINS is empty: the listener would accept nothing');
    process.exit(78);
  }
  const producer = createKafka(config.kafkaBrokers, `${config.kafkaClientId}-bounce-intake`, log).producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let reports: Counter | undefined;
  const listener = await startBounceListener({
    host: config.bounceListen.host,
    port: config.bounceListen.port,
    domains: config.bounceDomains,
    maxBytes: config.bounceMaxBytes,
    maxConnectionsPerClient: config.bounceMaxConnectionsPerClient,
    maxMessagesPerConnection: config.bounceMaxMessagesPerConnection,
    maxClients: config.bounceMaxClients,
    log,
    async accept(raw, envelope) {
      const d = decideIntake(raw, envelope, rules.current(), { topics, service: 'bounce-classifier', domains: config.bounceDomains, messageIdDomains: config.bounceMessageIdDomains }, new Date());
      for (const r of d.records) await producer.send({ topic: r.topic, acks: -1, messages: [{ key: r.key, value: r.value }] });
      reports?.add(1, { result: d.result, format: d.report.format });
      log.info(
        {
          result: d.result,
          format: d.report.format,
          messageId: d.correlation?.messageId,
          matchedBy: d.correlation?.by,
          recipient: d.chosen?.recipient,
          failureType: d.chosen?.failure.type,
          reason: d.chosen?.failure.reason,
          client: envelope.remoteAddress,
          rcptTo: envelope.rcptTo,
        },
        `inbound report: ${d.result}`,
      );
    },
  });
  return {
    port: listener.port,
    setMetrics(meter) {
      reports = meter.createCounter('mta_inbound_reports', { description: 'Messages received at the bounce address, by result and format.' });
    },
    async close() {
      await listener.close();
      await producer.disconnect();
    },
  };
}
