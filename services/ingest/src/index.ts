export * from './address.ts';
export * from './validity.ts';
export * from './validate.ts';
export * from './handler.ts';
export * from './config.ts';
