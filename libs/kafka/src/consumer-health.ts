import type { Consumer } from 'kafkajs';
import type { LogSink } from './client.ts';

/**
 * Group membership of a consumer, from its instrumentation events: joined after GROUP_JOIN until
 * it crashes, stops or disconnects. Stages combine it with their own stopping flag for /readyz.
 */
export class ConsumerHealth {
  joined = false;
  crashed: Error | undefined;

  /** `onJoin` runs on every new assignment (a stage resets what it held for the previous one). */
  constructor(consumer: Consumer, log: LogSink, fields: Record<string, unknown>, onJoin: () => void) {
    const { GROUP_JOIN, CRASH, STOP, DISCONNECT } = consumer.events;
    consumer.on(GROUP_JOIN, (e) => {
      onJoin();
      this.joined = true;
      this.crashed = undefined;
      log.info({ ...fields, assignment: e.payload.memberAssignment }, 'joined consumer group');
    });
    consumer.on(CRASH, (e) => {
      this.joined = false;
      this.crashed = e.payload.error;
      log.error({ ...fields, err: e.payload.error.message, restart: e.payload.restart }, 'consumer crashed');
    });
    consumer.on(STOP, () => (this.joined = false));
    consumer.on(DISCONNECT, () => (this.joined = false));
  }

  get ok(): boolean {
    return this.joined && !this.crashed;
  }
}
