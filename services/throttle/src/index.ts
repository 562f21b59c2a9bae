export * from './limits.ts';
export * from './token-bucket.ts';
export * from './limiter.ts';
export * from './handler.ts';
export * from './config.ts';
