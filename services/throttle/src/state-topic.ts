import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import type { LogSink } from '@mta/kafka';
import type { LearnedRecord, OperatorCommand } from './shaper.ts';

/** What the state topic carries: learned lane states (key = lane) and operator commands (key = cmd|selector). */
export type StateRecord = LearnedRecord | OperatorCommand;

/**
 * The learned lane state on the compacted `mta.shaping` topic (key = lane). At start the topic
 * is read to its end before the throttle consumes the queue, so a restarted or newly assigned
 * instance starts each lane from its history; afterwards records keep flowing in, so a lane
 * taken over at a rebalance starts from the last state its previous owner wrote. Writes are
 * coalesced per lane (the latest state wins) and flushed every `flushMs`. Operator commands
 * travel on it too (key `cmd|<selector>`), so a suspend reaches every instance.
 */
export class StateTopic {
  private consumer: Consumer;
  private producer: Producer;
  private pending = new Map<string, StateRecord>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** State records applied so far. */
  private count = 0;
  /** Settles when the replay started by start() has finished or failed (it may outlive start()). */
  replayed: Promise<void> = Promise.resolve();

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    private readonly onRecord: (r: StateRecord) => void,
    private readonly log: LogSink,
    private readonly flushMs = 500,
  ) {
    // Every instance reads the whole topic: a group of its own, never committed.
    // Learned state and operator commands of other instances: mostly idle; an empty fetch every
    // second (not every 200 ms) is plenty for state that changes over seconds to minutes.
    this.consumer = kafka.consumer({ groupId: `mta-throttle-state-${randomUUID()}`, maxWaitTimeInMs: 1000, allowAutoTopicCreation: false });
    this.producer = kafka.producer({ allowAutoTopicCreation: false });
  }

  /**
   * Connects and replays the topic up to its current end, bounded by timeoutMs. Returns the records
   * read. `admin` is used until `replayed` settles.
   */
  async start(admin: { fetchTopicOffsets(topic: string): Promise<{ partition: number; high: string }[]> }, timeoutMs = 30_000): Promise<number> {
    // One bound for the whole replay (connecting and joining included, which on a broker that is
    // starting can take long): past it the lanes start from what was read, and records still
    // arriving are applied as they come.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), timeoutMs)));
    const replay = this.replay(admin);
    this.replayed = replay.catch(() => undefined);
    const first = await Promise.race([replay, late]);
    clearTimeout(timer);
    if (first === 'late') {
      this.log.warn({ topic: this.topic, timeoutMs, records: this.count }, 'shaping state not fully replayed in time; starting anyway');
      replay.catch((err: Error) => this.log.error({ topic: this.topic, err: err.message }, 'shaping state replay failed after the lanes started'));
    }
    this.timer = setInterval(() => void this.flush(), this.flushMs);
    return this.count;
  }

  private async replay(admin: { fetchTopicOffsets(topic: string): Promise<{ partition: number; high: string }[]> }): Promise<void> {
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    const ends = new Map((await admin.fetchTopicOffsets(this.topic)).map((o) => [o.partition, BigInt(o.high)]));
    const reached = new Map<number, bigint>();
    let caughtUp!: () => void;
    const done = new Promise<void>((r) => (caughtUp = r));
    const check = () => {
      for (const [p, high] of ends) if (high > 0n && (reached.get(p) ?? 0n) < high) return;
      caughtUp();
    };
    await this.consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        reached.set(partition, BigInt(message.offset) + 1n);
        if (message.value) {
          try {
            this.onRecord(JSON.parse(message.value.toString()) as StateRecord);
            this.count++;
          } catch {
            /* not ours */
          }
        }
        check();
      },
    });
    check();
    await done;
  }

  write(r: StateRecord): void {
    this.pending.set(r.key, r);
  }

  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending.clear();
    this.flushing = this.producer
      .send({ topic: this.topic, messages: batch.map((r) => ({ key: r.key, value: JSON.stringify(r) })) })
      .then(() => undefined)
      .catch((err: Error) => {
        this.log.warn({ err: err.message }, 'shaping state write failed; will retry');
        for (const r of batch) if (!this.pending.has(r.key)) this.pending.set(r.key, r);
      })
      .finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
    await this.consumer.disconnect();
    await this.producer.disconnect();
  }
}
