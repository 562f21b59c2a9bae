#!/usr/bin/env node
// Creates the topics of deploy/topics.json on a cluster (idempotent: existing topics are left as
// they are) with a replication factor fit for production. Run by the k8s Job deploy/k8s/topics-job.yaml
// from any service image:
//   node deploy/docker/create-topics.mjs --brokers HOST:PORT[,...] [--replication-factor 3] [--min-insync-replicas 2]
import { readFileSync } from 'node:fs';
import { createTopics } from '../kafka/local-kafka.mjs';

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
function positiveInt(name, raw) {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${raw}`);
  return n;
}

try {
  const brokers = arg('brokers', process.env.KAFKA_BROKERS);
  if (!brokers) throw new Error('pass --brokers HOST:PORT (or set KAFKA_BROKERS)');
  const replicationFactor = positiveInt('replication-factor', arg('replication-factor', '1'));
  const minIsr = arg('min-insync-replicas');
  const doc = JSON.parse(readFileSync(new URL('../topics.json', import.meta.url), 'utf8'));
  const topics = doc.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions,
    replicationFactor,
    config: { ...t.config, ...(minIsr ? { 'min.insync.replicas': String(positiveInt('min-insync-replicas', minIsr)) } : {}) },
  }));
  await createTopics(brokers, topics, { timeoutMs: 120_000 });
  console.log(`${topics.length} topics ready on ${brokers} (replication factor ${replicationFactor})`);
} catch (err) {
  console.error(`create-topics: ${err.message}`);
  process.exit(1);
}
