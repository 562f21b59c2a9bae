import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { startScriptedSink, type SinkReply } from '@mta/testkit';

export interface Received {
  from: string;
  to: string[];
  data: string;
  /** The session had been upgraded with STARTTLS. */
  secure: boolean;
}

export interface FakeSmtp {
  port: number;
  /** TCP connections accepted so far. */
  connections: () => number;
  received: Received[];
  close(): Promise<void>;
}

export interface FakeSmtpOptions {
  /** Reject RCPT TO with this reply (e.g. `550 5.1.1 user unknown`) when it returns one. */
  rcpt?: (address: string) => string | undefined;
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** Offer STARTTLS (with smtp-server's built-in self-signed certificate). Default false. */
  starttls?: boolean;
}

/** `550 5.1.1 user unknown` as the scripted peer's reply. */
function sinkReply(reply: string): SinkReply {
  const m = /^(\d{3}) (.*)$/.exec(reply);
  return m ? { code: Number(m[1]), message: m[2]! } : { code: 550, message: reply };
}

/**
 * A real SMTP server (smtp-server) on a free loopback port that records what it receives: the
 * testkit's scripted peer (`startScriptedSink`), seen with the fields the sender's tests read.
 */
export async function startSmtp(opts: FakeSmtpOptions = {}): Promise<FakeSmtp> {
  const sink = await startScriptedSink(
    (address) => {
      const reply = opts.rcpt?.(address);
      return reply ? sinkReply(reply) : undefined;
    },
    { ...(opts.host ? { host: opts.host } : {}), ...(opts.starttls ? { starttls: true } : {}) },
  );
  return {
    port: sink.port,
    connections: sink.connections,
    get received() {
      return sink.received.map((m) => ({ from: m.from, to: m.to, data: m.raw.toString('utf8'), secure: m.secure ?? false }));
    },
    close: sink.close,
  };
}

/** A TCP server that accepts connections and drops them at once, before any greeting. */
export async function startDropper(host = '127.0.0.1'): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    connections++;
    s.destroy();
  });
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A minimal SMTP server (plain TCP, no PIPELINING, no STARTTLS) that takes one message per
 * connection and drops the connection when a second MAIL FROM arrives on it: a server that closed
 * a connection while the client thought it idle, seen from the client the moment it reuses it.
 */
export async function startOneShot(host = '127.0.0.1'): Promise<{ port: number; connections: () => number; received: () => number; close(): Promise<void> }> {
  let connections = 0;
  let received = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    let mails = 0;
    let inData = false;
    let buf = '';
    s.write('220 oneshot.test ESMTP\r\n');
    s.on('data', (chunk: Buffer) => {
      buf += chunk.toString('latin1');
      let i: number;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            received++;
            s.write('250 2.0.0 Ok: queued\r\n');
          }
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') s.write('250-oneshot.test\r\n250 8BITMIME\r\n');
        else if (verb === 'MAIL') {
          if (++mails > 1) return void s.destroy();
          s.write('250 2.1.0 Ok\r\n');
        } else if (verb === 'RCPT') s.write('250 2.1.5 Ok\r\n');
        else if (verb === 'DATA') {
          inData = true;
          s.write('354 End data with <CR><LF>.<CR><LF>\r\n');
        } else if (verb === 'QUIT') s.end('221 2.0.0 Bye\r\n');
        else s.write('502 5.5.2 Error: command not recognized\r\n');
      }
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    connections: () => connections,
    received: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
