import { SMTPServer, type SMTPServerAddress } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: Buffer;
  remoteAddress: string;
  session: string;
  /** The session had been upgraded with STARTTLS (scripted sink only). */
  secure?: boolean;
}

export interface SinkReply {
  code: number;
  message: string;
}

/**
 * How the sink answers a recipient, decided from its local part, so one sink can play a whole
 * population: `unknown*` / `hard*` → 550 5.1.1, `full*` → 452 4.2.2, `grey*` / `soft*` → 451 4.7.1,
 * `blocked*` → 550 5.7.1 (a block of the sender), anything else → accepted.
 */
export function replyFor(address: string): SinkReply | undefined {
  const local = address.split('@')[0]!.toLowerCase();
  if (local.startsWith('unknown') || local.startsWith('hard')) return { code: 550, message: '5.1.1 <' + address + '>: Recipient address rejected: User unknown in local recipient table' };
  if (local.startsWith('full')) return { code: 452, message: '4.2.2 <' + address + '>: Mailbox full' };
  if (local.startsWith('grey') || local.startsWith('soft')) return { code: 451, message: '4.7.1 <' + address + '>: Recipient address rejected: Greylisted, try again later' };
  if (local.startsWith('blocked')) return { code: 550, message: '5.7.1 Service unavailable; client host blocked using a reputation list' };
  return undefined;
}

export interface Sink {
  port: number;
  host: string;
  received: ReceivedMail[];
  /** Connections opened by clients, to check pooling. */
  connections: number;
  close(): Promise<void>;
}

/** A real SMTP server (smtp-server) on loopback that records what it accepts. */
export async function startSink(opts: { host?: string; port?: number; keep?: boolean; onMail?: (m: ReceivedMail) => void; maxMessageBytes?: number } = {}): Promise<Sink> {
  const host = opts.host ?? '127.0.0.1';
  const received: ReceivedMail[] = [];
  const state = { connections: 0 };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    size: opts.maxMessageBytes ?? 20 * 1024 * 1024,
    onConnect(_session, cb) {
      state.connections++;
      cb();
    },
    onRcptTo(address: SMTPServerAddress, _session, cb) {
      const r = replyFor(address.address);
      if (!r) return cb();
      const err = Object.assign(new Error(r.message), { responseCode: r.code });
      cb(err);
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const mail: ReceivedMail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
          remoteAddress: session.remoteAddress,
          session: session.id,
        };
        if (opts.keep !== false) received.push(mail);
        opts.onMail?.(mail);
        cb(null, 'Ok: queued as ' + session.id);
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const addr = server.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    host,
    port,
    received,
    get connections() {
      return state.connections;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
