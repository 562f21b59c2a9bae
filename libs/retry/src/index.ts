export * from './duration.ts';
export * from './policy.ts';
export * from './schedule.ts';
export * from './tiers.ts';
export * from './expiry.ts';
export * from './deadline-timer.ts';
