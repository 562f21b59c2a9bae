import { TtlCache } from './ttl-cache.ts';

/**
 * Mail hosts (address:port) that recently refused a connection, timed out or dropped it before
 * the greeting. While remembered, messages for them fail fast (or fail over to the next MX)
 * instead of each waiting for its own connection attempt to fail.
 */
export interface HostMemory {
  remember(hostKey: string, reason: string): void;
  /** Why the host is remembered as down, or undefined when it may be dialled. */
  recall(hostKey: string): string | undefined;
  forget(hostKey: string): void;
}

export interface HostMemoryOptions {
  /** How long a failure is remembered; 0 disables the memory. Default 30 s. */
  ttlMs?: number;
  now?: () => number;
  maxEntries?: number;
}

export function createHostMemory(opts: HostMemoryOptions = {}): HostMemory {
  const ttl = opts.ttlMs ?? 30_000;
  const now = opts.now ?? Date.now;
  const cache = new TtlCache<string>(opts.maxEntries ?? 10_000);
  return {
    remember(hostKey, reason) {
      if (ttl > 0) cache.set(hostKey, reason, now() + ttl);
    },
    recall: (hostKey) => cache.get(hostKey, now()),
    forget: (hostKey) => cache.delete(hostKey),
  };
}
