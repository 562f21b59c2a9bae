export * from './knobs.ts';
export * from './actions.ts';
export * from './rules.ts';
export * from './resolve.ts';
export * from './lint.ts';
export * from './signal.ts';
export * from './lane.ts';
export * from './warmup.ts';
