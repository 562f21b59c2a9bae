/**
 * CPU cost of the Stage itself (consume → handle → produce → commit) per record, in this one
 * process, against the real broker: N records of ~5 KB are produced to a fresh topic first, then a
 * Stage reads them with a handler that parses and re-encodes each (as ingest and the throttle do)
 * and produces one record per input. CPU time (user + system of this process) from the stage's
 * start to the last output acknowledged, divided by N. Robust to other load on the machine (it is
 * CPU time, not a rate); compare variants within one invocation.
 *
 *   KAFKA_BROKERS=127.0.0.1:19092 STAGE_VARIANTS='minBytes=1,linger=10;minBytes=524288,linger=20' node --import tsx bench/stage-cost.ts
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { ROOT } from '@mta/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { Stage, type StageOptions } from '@mta/kafka';

const N = Number(process.env.STAGE_RECORDS ?? 10000);
const RATE = Number(process.env.STAGE_RATE ?? 0);
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const kafka = new Kafka({ clientId: 'stage-cost', brokers, logLevel: logLevel.NOTHING, retry: { retries: 12 } });
const BODY = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(90).slice(0, 5000);
const silent = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };

async function topicsWith(n: number): Promise<{ input: string; output: string; dl: string }> {
  const id = randomUUID().slice(0, 8);
  const t = { input: `stagecost.in.${id}`, output: `stagecost.out.${id}`, dl: `stagecost.dl.${id}` };
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: false, topics: Object.values(t).map((topic) => ({ topic, numPartitions: 6, replicationFactor: 1 })) });
  for (;;) {
    const md = await admin.fetchTopicMetadata({ topics: Object.values(t) }).catch(() => undefined);
    if (md?.topics.every((x) => x.partitions.length === 6 && x.partitions.every((p) => p.leader >= 0))) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  for (let i = 0; i < n; i += 500) {
    const messages = [];
    for (let j = i; j < Math.min(n, i + 500); j++) messages.push({ key: `m${j}`, value: JSON.stringify({ messageId: `m${j}`, to: `u${j}@d${j % 20}.test`, text: BODY }) });
    await producer.send({ topic: t.input, messages });
  }
  await producer.disconnect();
  return t;
}

/**
 * STAGE_RATE > 0: the records arrive at that rate while the stage runs (as in the pipeline, where
 * a stage sees a trickle, not a backlog), produced by a child process so its CPU is not counted.
 */
function produceAtRate(topic: string, n: number, rate: number) {
  const code = `
    import { Kafka, logLevel } from 'kafkajs';
    const kafka = new Kafka({ clientId: 'stage-cost-feed', brokers: ${JSON.stringify(brokers)}, logLevel: logLevel.NOTHING });
    const p = kafka.producer(); await p.connect();
    const BODY = ${JSON.stringify(BODY)};
    const t0 = Date.now(); let sent = 0;
    while (sent < ${n}) {
      const due = Math.min(${n}, Math.floor(((Date.now() - t0) / 1000) * ${rate}) + 1);
      const messages = [];
      for (; sent < due; sent++) messages.push({ key: 'm' + sent, value: JSON.stringify({ messageId: 'm' + sent, to: 'u' + sent + '@d' + (sent % 20) + '.test', text: BODY }) });
      if (messages.length) await p.send({ topic: ${JSON.stringify(topic)}, messages });
      await new Promise((r) => setTimeout(r, 10));
    }
    await p.disconnect();`;
  return spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, stdio: 'inherit' });
}

async function run(variant: Record<string, number>): Promise<number> {
  const t = await topicsWith(RATE > 0 ? 0 : N);
  let produced = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const opts: StageOptions = {
    service: 'stage-cost',
    kafka,
    groupId: `stage-cost-${randomUUID()}`,
    topics: [t.input],
    deadLetterTopic: t.dl,
    log: silent,
    maxInFlight: 1000,
    hooks: {
      produced: (_topic, n) => {
        produced += n;
        if (produced >= N) done();
      },
    },
    handle: (rec) => {
      const m = JSON.parse(rec.value!.toString('utf8')) as { to: string };
      return [{ topic: t.output, key: m.to.split('@')[1]!, value: Buffer.from(JSON.stringify({ ...m, releasedAt: new Date().toISOString() })) }];
    },
    ...(variant.minBytes !== undefined ? { fetchMinBytes: variant.minBytes } : {}),
    ...(variant.maxWait !== undefined ? { fetchMaxWaitMs: variant.maxWait } : {}),
    ...(variant.linger !== undefined ? { lingerMs: variant.linger } : {}),
    ...(variant.concurrency !== undefined ? { partitionsConsumedConcurrently: variant.concurrency } : {}),
  };
  const stage = new Stage(opts);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await stage.start();
  const feed = RATE > 0 ? produceAtRate(t.input, N, RATE) : undefined;
  await finished;
  if (feed && feed.exitCode === null) await once(feed, 'exit');
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  await stage.stop();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: Object.values(t) }).catch(() => undefined);
  await admin.disconnect();
  const ms = (cpu.user + cpu.system) / 1000 / N;
  console.log(`${JSON.stringify(variant).padEnd(60)} ${(ms * 1000).toFixed(0).padStart(5)} µs CPU/record, ${((N / wall) * 1000).toFixed(0)} records/s wall`);
  return ms;
}

const variants = (process.env.STAGE_VARIANTS ?? 'minBytes=16384,linger=10;minBytes=524288,linger=20')
  .split(';')
  .map((v) => Object.fromEntries(v.split(',').filter(Boolean).map((kv) => { const [k, x] = kv.split('='); return [k!, Number(x)]; })));
await run(variants[0]!); // warm-up (JIT, connections), not reported apart
for (let round = 0; round < Number(process.env.STAGE_ROUNDS ?? 2); round++) for (const v of variants) await run(v);
