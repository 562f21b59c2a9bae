import { randomUUID } from 'node:crypto';
import { loadConfigOrExit, topicsOf } from '@mta/config';
import { attributeSet } from '@mta/telemetry';
import { createKafka, runStageService, Stage } from '@mta/kafka';
import { adminRoutes } from './admin.ts';
import { throttleKeys } from './config.ts';
import { createThrottleHandler, QueueBounced } from './handler.ts';
import { createLearnHandler } from './learn.ts';
import { createRekeyHandler } from './rekey.ts';
import { Limiter } from './limiter.ts';
import { Shaper } from './shaper.ts';
import { createMxResolver, createSiteResolver } from './site.ts';
import { StateTopic } from './state-topic.ts';
import { InFlightWindow } from './window.ts';

const config = loadConfigOrExit('throttle', throttleKeys);
const topics = topicsOf(config);
const limiter = new Limiter();
const rules = () => config.rules.rules;
const owner = `${config.kafkaClientId}-${randomUUID().slice(0, 8)}`;
let state: StateTopic | undefined;
/** The state topic from setup on (commands are queued by it until it has started). */
let stateTopic: StateTopic | undefined;
let countChange = () => {};
const shaper = new Shaper({
  rules,
  pools: config.ipPools,
  owner,
  onChange: (lane) => {
    countChange();
    state?.write(shaper.record(lane));
  },
  onLimits: (lane, lim) => limiter.update(lane.key, lim.messagesPerSecond, lim.burst),
  busy: (key) => limiter.busy(key),
  onCommand: (cmd) => stateTopic?.write(cmd),
  onBounceQueue: (lane, reason) => limiter.rejectAll(lane.key, new QueueBounced(`queue bounced by automation: ${reason}`)),
});
const sites =
  config.siteBy === 'mx'
    ? createSiteResolver({ resolver: createMxResolver(config.dnsServer), ttlMs: config.mxCacheTtlS * 1000 })
    : { resolve: async (domain: string) => ({ site: domain, hosts: [domain] }) };
const slots = new InFlightWindow();
/** The lane of a queue record: its key (recipient domain on mta.queue, site on mta.queue.site). */
const keyOf = (rec: { key: Buffer | null }) => rec.key?.toString('utf8');
const handler = createThrottleHandler({ topics, limiter, shaper, sites, ...(config.windowS > 0 ? { window: { slots, windowS: config.windowS } } : {}) });
await runStageService({
  service: 'throttle',
  config,
  // With per-site ownership this stage only re-keys mta.queue by site (rekey.ts); the lanes' stage below reads mta.queue.site.
  inputTopic: topics.queue,
  deadLetterTopic: topics.deadLetter,
  routes: adminRoutes({ shaper, limiter, rules, token: config.adminToken }),
  setup({ metrics, log }) {
    for (const f of config.rules.lint) log.warn({ lint: f }, `shaping rules: ${f.where} ${f.message}`);
    const released = metrics.meter.createCounter('mta_throttle_released', { description: 'Messages released to the sender.' });
    const expired = metrics.meter.createCounter('mta_throttle_expired', { description: 'Messages whose validity ended while waiting.' });
    const signals = metrics.meter.createCounter('mta_throttle_signals', { description: 'Attempts seen by the shaper, by signal kind.' });
    const signalAttrs = attributeSet('kind');
    const changes = metrics.meter.createCounter('mta_throttle_lane_changes', { description: 'Lane limit changes (adaptation, automation, operator).' });
    countChange = () => changes.add(1);
    metrics.meter
      .createObservableGauge('mta_throttle_waiting', { description: "Messages waiting for their lane's token." })
      .addCallback((r) => r.observe(limiter.waiting));
    metrics.meter
      .createObservableGauge('mta_throttle_lane_rate', { description: 'Current message rate of each lane.' })
      .addCallback((r) => {
        for (const l of shaper.lanes.values()) r.observe(shaper.limits(l).messagesPerSecond, { provider: l.resolved.provider ?? 'none', site: l.site, source_ip: l.ip });
      });
    const kafka = createKafka(config.kafkaBrokers, config.kafkaClientId, log);
    const topicState = new StateTopic(kafka, topics.shaping, (r) => (r.kind === 'command' ? shaper.command(r) : shaper.learn(r)), log);
    stateTopic = topicState;
    const learn = new Stage({
      service: 'throttle-learn',
      kafka,
      // Every instance sees every attempt (a group of its own) and applies those of lanes it holds.
      groupId: `${config.groupId}-learn-${owner}`,
      // Attempts (AIMD, automation, invalid-recipient ratio) and events (complaints: complaint ratio).
      topics: [topics.attempts, topics.events],
      deadLetterTopic: topics.deadLetter,
      log,
      fromBeginning: false,
      maxInFlight: 5000,
      // Not on the message path: fuller, fewer fetches of these small records (every 500 ms at
      // most instead of 100 ms) cost less per record; lanes learn 0.4 s later at worst.
      fetchMaxWaitMs: 500,
      handle: createLearnHandler({ shaper, sites, pools: (config.ipPools?.size ?? 0) > 0, eventsTopic: topics.events, onSignal: (kind) => signals.add(1, signalAttrs(kind)), settle: (key) => slots.settle(key) }),
    });
    // The lanes wait for the learned state to be replayed, so that no lane starts from scratch.
    const lanesHandler: typeof handler = async (rec) => {
      await ready;
      return handler(rec);
    };
    // Per-site ownership: mta.queue → (this service's stage, rekey.ts) → mta.queue.site keyed by site →
    // the lanes' stage, one group shared by every instance: each site has one owner.
    const siteLanes =
      config.ownership === 'site'
        ? new Stage({
            service: 'throttle-lanes',
            kafka,
            groupId: `${config.groupId}-lanes`,
            topics: [topics.siteQueue],
            deadLetterTopic: topics.deadLetter,
            log,
            maxInFlight: config.maxInFlight,
            laneOf: keyOf,
            maxInFlightPerLane: config.maxInFlightPerLane,
            handle: lanesHandler,
          })
        : undefined;
    const admin = kafka.admin();
    // Learned state first, so no lane starts from scratch; then the learning stage.
    let started = false;
    const ready = (async () => {
      await admin.connect();
      const n = await topicState.start(admin);
      // A replay that outlived its bound still needs the admin client (the topic's end offsets).
      void topicState.replayed.then(() => admin.disconnect().catch(() => undefined));
      state = topicState;
      log.info({ records: n, topic: topics.shaping }, 'shaping state replayed');
      await learn.start();
      await siteLanes?.start();
      started = true;
    })();
    // The lanes wait for this: if it cannot start (kafkajs gave up its retries), holding the queue
    // forever behind a 200 /readyz would be a silent stall. Exit instead, as a failed start does, so
    // that the supervisor restarts the throttle; nothing was committed for the records it held.
    ready.catch((err: Error) => {
      log.fatal({ err: err.stack }, 'shaping state / learning stage failed to start; exiting so that the throttle is restarted');
      process.exit(1);
    });
    const sweeper = setInterval(() => {
      limiter.sweep();
      slots.sweep();
    }, 60_000);
    return {
      handle: siteLanes ? createRekeyHandler({ topics, sites }) : lanesHandler,
      // mta.queue is keyed by recipient domain: one domain's backlog never takes every in-flight
      // slot (with per-site ownership the lanes' stage does the same per site, below).
      ...(siteLanes ? {} : { laneOf: keyOf }),
      // Not ready until the lanes can run: learned state replayed, learning (and lanes') stage joined.
      ready: () => started && learn.ready && (siteLanes?.ready ?? true),
      details: () => ({ started, waiting: limiter.waiting, lanes: shaper.lanes.size, learning: learn.ready, ownership: config.ownership, ...(siteLanes ? { siteLanes: siteLanes.ready } : {}) }),
      close: async () => {
        clearInterval(sweeper);
        await siteLanes?.stop(2000).catch(() => undefined);
        await learn.stop(2000).catch(() => undefined);
        await topicState.stop().catch(() => undefined);
      },
      describe: { rules: config.rules.path, pools: config.ipPools ? [...config.ipPools.keys()] : [], owner },
    };
  },
});

