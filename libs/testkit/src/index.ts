export * from './smtp-sink.ts';
export * from './kafka.ts';
export * from './processes.ts';
export * from './dns.ts';
export * from './tls.ts';
export * from './dkim.ts';
export * from './peers.ts';
export * from './postfix-sink.ts';
