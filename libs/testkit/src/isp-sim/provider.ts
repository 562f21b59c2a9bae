import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';
import { takeToken, type SimBucket } from './bucket.ts';
import { bucketDepth, type ProviderProfile } from './profiles.ts';

/** What happened at one provider, for the benchmark and tests. */
export interface ProviderStats {
  delivered: number;
  /** Deferrals by cause. */
  deferred: { rate: number; connections: number; perConnection: number; block: number; greylist: number; mailboxFull: number };
  unknownUser: number;
  connections: number;
  peakConnections: number;
  /** Temporary blocks imposed (per sending IP). */
  blocks: number;
  /** Sending IPs seen. */
  peers: string[];
}

interface PeerState {
  messages: SimBucket;
  conns: SimBucket;
  active: number;
  deferrals: number[];
  blockedUntil: number;
}

interface SessionState {
  peer: string;
  /** Connection refused by limit: every transaction on it is deferred. */
  over?: 'connections';
  messages: number;
}

export interface SimProvider {
  profile: ProviderProfile;
  port: number;
  stats: ProviderStats;
  close(): Promise<void>;
}

const smtpError = (code: number, text: string) => Object.assign(new Error(text), { responseCode: code });

/**
 * One receiving provider: an smtp-server on the profile's loopback address. Limits are kept
 * per sending IP (the connecting peer address): message rate (checked per recipient),
 * concurrent connections and connection rate (checked at MAIL FROM, so the client sees a reply
 * instead of a refused greeting), messages per connection. Exceeding one answers with the
 * provider's deferral text; `abuseDeferrals` within `abuseWindowS` block the IP for `blockS`.
 * Durations are taken as they are in the profile (see `timeScaled` for a compressed run).
 * Recipients whose local part starts with `unknown` do not exist, `full` have a full mailbox
 * (the first attempt), `grey` are greylisted (for greylistS after the first attempt).
 */
export async function startProvider(profile: ProviderProfile, port: number, now: () => number = Date.now): Promise<SimProvider> {
  const L = profile.limits;
  const burst = bucketDepth(L.messagesPerSecond, L.burstS);
  const connectionBurst = bucketDepth(L.connectionsPerSecond, L.connectionBurstS);
  const stats: ProviderStats = { delivered: 0, deferred: { rate: 0, connections: 0, perConnection: 0, block: 0, greylist: 0, mailboxFull: 0 }, unknownUser: 0, connections: 0, peakConnections: 0, blocks: 0, peers: [] };
  const peers = new Map<string, PeerState>();
  const sessions = new Map<string, SessionState>();
  const greylist = new Map<string, number>();
  const fullSeen = new Set<string>();
  let active = 0;

  const peerOf = (ip: string): PeerState => {
    let p = peers.get(ip);
    if (!p) {
      p = { messages: { tokens: burst, at: now() }, conns: { tokens: connectionBurst, at: now() }, active: 0, deferrals: [], blockedUntil: 0 };
      peers.set(ip, p);
      stats.peers.push(ip);
    }
    return p;
  };
  const text = (t: string, ip: string, rcpt = '') => t.replaceAll('{ip}', ip).replaceAll('{rcpt}', rcpt);
  /** A limit deferral: counts toward the abuse block. */
  const defer = (p: PeerState, ip: string, kind: 'rate' | 'connections' | 'perConnection', reply: [number, string]) => {
    const t = now();
    stats.deferred[kind]++;
    p.deferrals = p.deferrals.filter((x) => x > t - profile.abuseWindowS * 1000);
    p.deferrals.push(t);
    if (p.deferrals.length >= profile.abuseDeferrals) {
      p.blockedUntil = t + profile.blockS * 1000;
      p.deferrals = [];
      stats.blocks++;
    }
    return smtpError(reply[0], text(reply[1], ip));
  };
  const blocked = (p: PeerState, ip: string) => {
    if (p.blockedUntil <= now()) return undefined;
    stats.deferred.block++;
    return smtpError(profile.replies.block[0], text(profile.replies.block[1], ip));
  };

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    banner: `${profile.mxHosts[0]} ESMTP ${profile.name} simulator`,
    onConnect(session: SMTPServerSession, cb) {
      const ip = session.remoteAddress;
      const p = peerOf(ip);
      stats.connections++;
      active++;
      p.active++;
      stats.peakConnections = Math.max(stats.peakConnections, active);
      const s: SessionState = { peer: ip, messages: 0 };
      if (p.active > L.maxConnections || !takeToken(p.conns, now(), L.connectionsPerSecond, connectionBurst)) s.over = 'connections';
      sessions.set(session.id, s);
      cb();
    },
    onClose(session: SMTPServerSession) {
      const s = sessions.get(session.id);
      if (!s) return;
      sessions.delete(session.id);
      active--;
      peerOf(s.peer).active--;
    },
    onMailFrom(_address: SMTPServerAddress, session: SMTPServerSession, cb) {
      const s = sessions.get(session.id)!;
      const p = peerOf(s.peer);
      const b = blocked(p, s.peer);
      if (b) return cb(b);
      if (s.over) return cb(defer(p, s.peer, 'connections', profile.replies.connections));
      if (++s.messages > L.messagesPerConnection) return cb(defer(p, s.peer, 'perConnection', profile.replies.perConnection));
      cb();
    },
    onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, cb) {
      const s = sessions.get(session.id)!;
      const p = peerOf(s.peer);
      const rcpt = address.address.toLowerCase();
      const local = rcpt.split('@')[0]!;
      const b = blocked(p, s.peer);
      if (b) return cb(b);
      if (local.startsWith('unknown')) {
        stats.unknownUser++;
        return cb(smtpError(profile.replies.unknownUser[0], text(profile.replies.unknownUser[1], s.peer, rcpt)));
      }
      if (!takeToken(p.messages, now(), L.messagesPerSecond, burst)) return cb(defer(p, s.peer, 'rate', profile.replies.rate));
      if (local.startsWith('grey')) {
        const key = `${s.peer}|${session.envelope.mailFrom ? session.envelope.mailFrom.address : ''}|${rcpt}`;
        const first = greylist.get(key);
        if (first === undefined) greylist.set(key, now());
        if (first === undefined || now() - first < profile.greylistS * 1000) {
          stats.deferred.greylist++;
          return cb(smtpError(profile.replies.greylist[0], text(profile.replies.greylist[1], s.peer, rcpt)));
        }
      }
      if (local.startsWith('full') && !fullSeen.has(rcpt)) {
        fullSeen.add(rcpt);
        stats.deferred.mailboxFull++;
        return cb(smtpError(profile.replies.mailboxFull[0], text(profile.replies.mailboxFull[1], s.peer, rcpt)));
      }
      cb();
    },
    onData(stream, session, cb) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        stats.delivered += session.envelope.rcptTo.length;
        cb(null, `2.0.0 OK ${session.id} - ${profile.name} simulator`);
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, profile.ip, () => resolve());
  });
  return { profile, port, stats, close: () => new Promise<void>((r) => server.close(() => r())) };
}
