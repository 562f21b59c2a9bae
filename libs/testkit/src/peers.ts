import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';

/** A message a peer accepted, with what the session looked like. */
export interface PeerMail {
  from: string;
  to: string[];
  raw: Buffer;
  remoteAddress: string;
  /** EHLO/HELO name the client gave. */
  clientHostname: string;
  /** The session was upgraded with STARTTLS. */
  secure: boolean;
  /** MAIL FROM parameters the client used (e.g. BODY=8BITMIME, SMTPUTF8). */
  mailParams: Record<string, unknown>;
}

/**
 * How a peer misbehaves. Each is a real situation an MTA meets on the internet:
 * - `greylist`: 451 4.7.1 to the first RCPT of every (client address, sender, recipient)
 *   triplet, accepted when it is seen again (the classic greylisting policy);
 * - `dropInData`: closes the connection after receiving this many bytes of a message's DATA;
 * - `slow`: waits this long before each reply to MAIL/RCPT/DATA end (slower than the client's timeouts);
 * - `rejectRcpt`: answers RCPT with this reply for the addresses it picks (partial rejection);
 * - `requireAddress`: refuses connections from any other client address (checks IP pools).
 */
export interface PeerBehaviour {
  greylist?: boolean;
  dropInData?: number;
  slow?: { ms: number; at: 'mail' | 'rcpt' | 'data' | 'greeting' };
  rejectRcpt?: (address: string) => string | undefined;
  requireAddress?: string[];
  /** Offer STARTTLS with this certificate (PEM). Without it the peer does not offer STARTTLS. */
  tls?: { key: string; cert: string };
  /** Advertise SMTPUTF8 (default true, smtp-server's default). */
  smtputf8?: boolean;
  /** Listen address (default 127.0.0.1). */
  host?: string;
}

export interface Peer {
  host: string;
  port: number;
  received: PeerMail[];
  /** RCPT replies given, `address → code`, in order. */
  rcptReplies: { address: string; remoteAddress: string; code: number }[];
  /** Client addresses of accepted connections, in order. */
  connections: string[];
  close(): Promise<void>;
}

function replyError(reply: string): Error {
  const m = /^(\d{3}) (.*)$/.exec(reply);
  return Object.assign(new Error(m ? m[2] : reply), { responseCode: m ? Number(m[1]) : 550 });
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A real SMTP server (smtp-server) on loopback that behaves as `b` says. */
export async function startPeer(b: PeerBehaviour = {}): Promise<Peer> {
  const host = b.host ?? '127.0.0.1';
  const received: PeerMail[] = [];
  const rcptReplies: Peer['rcptReplies'] = [];
  const connections: string[] = [];
  const seen = new Set<string>();
  const options: SMTPServerOptions = {
    authOptional: true,
    disabledCommands: b.tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    ...(b.tls ? { key: b.tls.key, cert: b.tls.cert } : {}),
    ...(b.smtputf8 === false ? { hideSMTPUTF8: true } : {}),
    hide8BITMIME: false,
    logger: false,
    // A client that gives up (timeouts) must not leave the server waiting for the socket.
    socketTimeout: 30_000,
    async onConnect(session, cb) {
      if (b.requireAddress && !b.requireAddress.includes(session.remoteAddress)) {
        return cb(replyError(`554 5.7.1 ${session.remoteAddress} is not allowed to connect here`));
      }
      connections.push(session.remoteAddress);
      if (b.slow?.at === 'greeting') await wait(b.slow.ms);
      cb();
    },
    async onMailFrom(_address, _session, cb) {
      if (b.slow?.at === 'mail') await wait(b.slow.ms);
      cb();
    },
    async onRcptTo(address, session, cb) {
      if (b.slow?.at === 'rcpt') await wait(b.slow.ms);
      const record = (code: number) => rcptReplies.push({ address: address.address, remoteAddress: session.remoteAddress, code });
      const reply = b.rejectRcpt?.(address.address);
      if (reply) {
        record(Number(reply.slice(0, 3)));
        return cb(replyError(reply));
      }
      if (b.greylist) {
        const triplet = `${session.remoteAddress}|${session.envelope.mailFrom ? session.envelope.mailFrom.address : ''}|${address.address}`;
        if (!seen.has(triplet)) {
          seen.add(triplet);
          record(451);
          return cb(replyError('451 4.7.1 Greylisted, please try again later'));
        }
      }
      record(250);
      cb();
    },
    onData(stream, session: SMTPServerSession, cb) {
      const chunks: Buffer[] = [];
      let bytes = 0;
      let dropped = false;
      stream.on('data', (c: Buffer) => {
        chunks.push(c);
        bytes += c.length;
        if (b.dropInData !== undefined && bytes >= b.dropInData && !dropped) {
          dropped = true;
          // Cut the TCP connection in the middle of the message, as a crashing peer would.
          connectionOf(server, session.id)?.destroy();
        }
      });
      stream.on('end', async () => {
        if (dropped) return;
        if (b.slow?.at === 'data') await wait(b.slow.ms);
        const mailFrom = session.envelope.mailFrom;
        received.push({
          from: mailFrom ? mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
          remoteAddress: session.remoteAddress,
          clientHostname: session.hostNameAppearsAs,
          secure: session.secure,
          mailParams: mailFrom ? { ...(mailFrom.args || {}) } : {},
        });
        cb(null, 'Ok: queued as ' + session.id);
      });
    },
  };
  const server = new SMTPServer(options);
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    host,
    port,
    received,
    rcptReplies,
    connections,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** smtp-server keeps its connections in a private set; find the one of a session to cut it. */
function connectionOf(server: SMTPServer, sessionId: string): { destroy(): void } | undefined {
  const conns = (server as unknown as { connections?: Set<{ id: string; _socket?: { destroy(): void } }> }).connections;
  for (const c of conns ?? []) if (c.id === sessionId) return c._socket;
  return undefined;
}
