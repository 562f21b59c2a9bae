export * from './fold.ts';
export * from './message-store.ts';
export * from './kpis.ts';
export * from './throughput.ts';
export * from './view.ts';
export * from './handler.ts';
export * from './routes.ts';
export * from './config.ts';
