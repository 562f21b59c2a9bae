export * from './smtp-sink.ts';
export * from './kafka.ts';
export * from './processes.ts';
export * from './dns.ts';
export * from './isp-sim/index.ts';
