import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { SERVICES, ROOT } from '@mta/testkit';

const compose = parse(readFileSync(`${ROOT}docker-compose.yml`, 'utf8'), { merge: true }) as { services: Record<string, any> };
const topics = (JSON.parse(readFileSync(`${ROOT}deploy/topics.json`, 'utf8')) as { topics: { name: string }[] }).topics;

test('docker-compose runs the official Kafka image and one container per service', () => {
  assert.match(compose.services.kafka.image, /^apache\/kafka:4\./);
  for (const s of SERVICES) {
    const svc = compose.services[s];
    assert.ok(svc, `service ${s} in docker-compose.yml`);
    assert.equal(svc.build.args.SERVICE, s, `${s} builds its own image`);
    assert.equal(svc.environment.KAFKA_BROKERS, 'kafka:9092', `${s} uses the compose broker`);
    assert.ok(svc.healthcheck.test.join(' ').includes('/readyz'), `${s} health check uses /readyz`);
    assert.equal(svc.depends_on['kafka-init'].condition, 'service_completed_successfully');
  }
});

test('docker-compose creates every topic of deploy/topics.json', () => {
  const init = compose.services['kafka-init'];
  assert.deepEqual(init.command.slice(1, 3), ['deploy/kafka/local-kafka.mjs', 'topics']);
  const names = topics.map((t) => t.name);
  for (const t of ['mta.requests', 'mta.queue', 'mta.deliveries', 'mta.attempts', 'mta.events', 'mta.status', 'mta.dead-letter']) assert.ok(names.includes(t), t);
});
