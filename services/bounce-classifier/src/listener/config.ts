import { int, type Key } from '@mta/config';

/** `host:port`, e.g. `0.0.0.0:25` or `127.0.0.1:2526`; empty = no listener. */
export const listenKey: Key<{ host: string; port: number } | undefined> = {
  env: 'MTA_BOUNCE_LISTEN',
  description: 'host:port of the inbound SMTP listener for asynchronous bounces (empty = no listener).',
  optional: true,
  parse(raw) {
    if (raw.trim() === '') return undefined;
    const m = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(raw.trim());
    if (!m || !m[1]) throw new Error(`must be host:port, got "${raw}"`);
    const port = Number(m[2]);
    if (port > 65535) throw new Error(`port must be at most 65535, got ${port}`);
    return { host: m[1], port };
  },
};

const domainList = (env: string, description: string): Key<string[]> => ({
  env,
  description,
  default: '',
  parse(raw) {
    const list = raw.split(',').map((d) => d.trim().toLowerCase()).filter(Boolean);
    for (const d of list) if (d !== '*' && !/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/.test(d)) throw new Error(`"${d}" is not a domain name`);
    return list;
  },
});

export const bounceKeys = {
  bounceListen: listenKey,
  bounceDomains: domainList('MTA_BOUNCE_DOMAINS', 'Comma-separated bounce domains: the listener accepts mail only for them, and VERP addresses are decoded there.'),
  bounceMessageIdDomains: domainList('MTA_BOUNCE_MESSAGE_ID_DOMAINS', 'Extra domains whose returned Message-IDs (<messageId@domain>) are ours, for reports without VERP; `*` = any.'),
  bounceMaxBytes: int('MTA_BOUNCE_MAX_BYTES', 'Largest inbound report accepted (bytes); larger ones are refused with 552.', 10 * 1024 * 1024, 1024),
  bounceMaxConnectionsPerClient: int('MTA_BOUNCE_MAX_CONNECTIONS_PER_CLIENT', 'Concurrent connections one client IP may hold.', 10, 1),
  bounceMaxMessagesPerConnection: int('MTA_BOUNCE_MAX_MESSAGES_PER_CONNECTION', 'Messages one connection may send before it must reconnect.', 100, 1),
  bounceMaxClients: int('MTA_BOUNCE_MAX_CLIENTS', 'Concurrent connections in all.', 200, 1),
  rulesReloadMs: int('MTA_RULES_RELOAD_MS', 'How often the rules file is checked for changes, ms (0 = never reload).', 2000, 0),
};
