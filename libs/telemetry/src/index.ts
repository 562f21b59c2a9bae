export * from './logger.ts';
export * from './metrics.ts';
export * from './http.ts';
export * from './runtime.ts';
export * from './stage-metrics.ts';
export * from './tracing.ts';
export * from './span.ts';
export * from './smtp-telemetry.ts';
