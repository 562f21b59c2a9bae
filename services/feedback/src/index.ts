export * from './fold.ts';
export * from './state-store.ts';
export * from './handler.ts';
export * from './config.ts';
