import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import type { ReceivedMail, SinkReply } from './smtp-sink.ts';

export interface ScriptedSink {
  port: number;
  host: string;
  received: ReceivedMail[];
  /** RCPT TO commands seen per recipient address (every attempt, accepted or not). */
  rcptCount(address: string): number;
  /** TCP connections accepted so far (to check pooling and reuse). */
  connections(): number;
  close(): Promise<void>;
}

export interface ScriptedSinkOptions {
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** Offer STARTTLS (with smtp-server's built-in self-signed certificate). Default false. */
  starttls?: boolean;
}

/**
 * A real SMTP server (smtp-server) whose answer to RCPT TO depends on the recipient and on how
 * many times it was asked for that recipient before: `answer(address, nth)` with nth = 1 for the
 * first attempt. Return undefined to accept. Plays a domain that greylists twice then accepts, or
 * (ignoring nth) a peer with fixed answers per recipient. The one scripted SMTP test peer: the
 * sender's tests use it too (services/sender/test/support/smtp.ts).
 */
export async function startScriptedSink(answer: (address: string, nth: number) => SinkReply | undefined = () => undefined, opts: ScriptedSinkOptions = {}): Promise<ScriptedSink> {
  const host = opts.host ?? '127.0.0.1';
  const received: ReceivedMail[] = [];
  const counts = new Map<string, number>();
  let connections = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: opts.starttls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    logger: false,
    onConnect(_session, cb) {
      connections++;
      cb();
    },
    onRcptTo(address: SMTPServerAddress, _session, cb) {
      const key = address.address.toLowerCase();
      const nth = (counts.get(key) ?? 0) + 1;
      counts.set(key, nth);
      const r = answer(key, nth);
      if (!r) return cb();
      cb(Object.assign(new Error(r.message), { responseCode: r.code }));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
          remoteAddress: session.remoteAddress,
          session: session.id,
          secure: session.secure,
        });
        cb(); // smtp-server's own "250 OK: message queued"
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const addr = server.server.address();
  return {
    host,
    port: typeof addr === 'object' && addr ? addr.port : 0,
    received,
    rcptCount: (address) => counts.get(address.toLowerCase()) ?? 0,
    connections: () => connections,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
