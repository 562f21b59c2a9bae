export * from './keys.ts';
export * from './load.ts';
export * from './common.ts';
export * from './ip-pools.ts';
export * from './telemetry.ts';
