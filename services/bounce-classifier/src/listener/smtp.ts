import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

/**
 * The inbound SMTP listener for the bounce domains: a thin adapter around smtp-server. It accepts
 * RCPT TO only for the configured domains (it is not a relay), enforces the size limit and the
 * per-client limits, and answers 250 only after `accept` resolved (the report is on Kafka);
 * if `accept` throws, the sender is told to retry later (451), so nothing is lost.
 */
export interface BounceListenerOptions {
  host: string;
  port: number;
  /** Domains we take mail for (case-insensitive). */
  domains: readonly string[];
  /** Largest message accepted, bytes (advertised as SIZE; larger ones get 552). */
  maxBytes: number;
  /** Concurrent connections per client IP. */
  maxConnectionsPerClient: number;
  /** Messages per connection before the client must reconnect. */
  maxMessagesPerConnection: number;
  /** Concurrent connections in all. */
  maxClients: number;
  /** Host name in the greeting. */
  name?: string;
  accept(raw: Buffer, envelope: { mailFrom: string; rcptTo: string[]; remoteAddress: string; id: string }): Promise<void>;
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

export interface BounceListener {
  port: number;
  close(): Promise<void>;
}

type SmtpError = Error & { responseCode: number };
const smtpError = (code: number, message: string): SmtpError => Object.assign(new Error(message), { responseCode: code });

export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase().replace(/\.$/, '');
}

export async function startBounceListener(opts: BounceListenerOptions): Promise<BounceListener> {
  const domains = new Set(opts.domains.map((d) => d.toLowerCase()));
  const perClient = new Map<string, number>();
  const messages = new WeakMap<SMTPServerSession, number>();
  const server = new SMTPServer({
    name: opts.name,
    banner: 'bounce intake',
    size: opts.maxBytes,
    rejectOversized: true,
    authOptional: true,
    disabledCommands: ['AUTH'],
    maxClients: opts.maxClients,
    logger: false,
    onConnect(session, callback) {
      const ip = session.remoteAddress;
      const n = (perClient.get(ip) ?? 0) + 1;
      if (n > opts.maxConnectionsPerClient) {
        opts.log.warn({ client: ip, connections: n - 1 }, 'bounce listener: too many connections from one client');
        return callback(smtpError(421, '4.7.0 Too many connections from your address, try again later'));
      }
      perClient.set(ip, n);
      (session as SMTPServerSession & { counted?: boolean }).counted = true;
      callback();
    },
    onClose(session) {
      if (!(session as SMTPServerSession & { counted?: boolean }).counted) return;
      const ip = session.remoteAddress;
      const n = (perClient.get(ip) ?? 1) - 1;
      if (n <= 0) perClient.delete(ip);
      else perClient.set(ip, n);
    },
    onMailFrom(_address: SMTPServerAddress, session, callback) {
      if ((messages.get(session) ?? 0) >= opts.maxMessagesPerConnection) {
        return callback(smtpError(421, `4.7.0 Too many messages on one connection (${opts.maxMessagesPerConnection}), reconnect`));
      }
      callback();
    },
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      if (!domains.has(domainOf(address.address))) return callback(smtpError(550, '5.7.1 Relay denied: this server only accepts mail for its bounce domains'));
      callback();
    },
    onData(stream: SMTPServerDataStream, session, callback) {
      const chunks: Buffer[] = [];
      let bytes = 0;
      stream.on('data', (c: Buffer) => {
        bytes += c.length;
        if (bytes <= opts.maxBytes) chunks.push(c);
      });
      stream.on('end', () => {
        messages.set(session, (messages.get(session) ?? 0) + 1);
        if (stream.sizeExceeded) return callback(smtpError(552, `5.3.4 Message exceeds the fixed maximum size of ${opts.maxBytes} bytes`));
        const envelope = {
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          remoteAddress: session.remoteAddress,
          id: `${session.id}.${session.transaction}`,
        };
        opts.accept(Buffer.concat(chunks), envelope).then(
          () => callback(null, 'Report accepted'),
          (err: Error) => {
            opts.log.error({ err: err.message, client: session.remoteAddress }, 'bounce listener: could not store the report; the sender will retry');
            callback(smtpError(451, '4.3.0 Temporary failure storing the report, try again later'));
          },
        );
      });
      stream.on('error', (err: Error) => opts.log.warn({ err: err.message }, 'bounce listener: data stream error'));
    },
  });
  server.on('error', (err: Error) => opts.log.warn({ err: err.message }, 'bounce listener: connection error'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  opts.log.info({ host: opts.host, port, domains: [...domains] }, `bounce listener on ${opts.host}:${port}`);
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
