export * from './batch-producer.ts';
export * from './client.ts';
export * from './dead-letter.ts';
export * from './headers.ts';
export * from './in-record.ts';
export * from './offset-tracker.ts';
export * from './stage.ts';
export * from './seen-window.ts';
