/**
 * Receiving providers of the ISP simulator: their limits per sending IP and the replies they
 * give when a limit is exceeded (texts as the real providers send them; see the bounce
 * classifier's rules.txt for the captured originals).
 *
 * Every duration of a profile is in real seconds (what a provider would do). A simulator run may
 * compress time by a factor k (`timeScaled`): the providers' memories (abuse window, block,
 * greylisting) are divided by k, like the MTA's own (adaptation interval, automation windows,
 * retry schedule); rates and counts stay as they are. The token buckets' depths (one second of
 * messages, two of connections) are not: they are the tolerance for requests arriving together,
 * and what makes requests arrive together (Kafka hops, SMTP round trips, a pool opening its
 * connections) runs at real speed in a compressed run too (docs/shaping.md §8).
 */
export interface ProviderLimits {
  /** Messages (RCPT) per second per sending IP, as a token bucket `burstS` seconds deep (at least one token). */
  messagesPerSecond: number;
  burstS: number;
  /** Concurrent connections per sending IP. */
  maxConnections: number;
  /** Messages per connection before the provider asks to reconnect. */
  messagesPerConnection: number;
  /** New connections per second per sending IP, as a token bucket `connectionBurstS` seconds deep (at least one). */
  connectionsPerSecond: number;
  connectionBurstS: number;
}

/** Tokens a bucket of `rate`/s holds when it is `depthS` seconds deep: at least one (a single request always fits). */
export const bucketDepth = (rate: number, depthS: number): number => Math.max(1, rate * depthS);

export interface ProviderReplies {
  /** Rate exceeded (code, text; `{ip}` is replaced by the sending IP). */
  rate: [number, string];
  connections: [number, string];
  perConnection: [number, string];
  /** Temporary block after repeated abuse. */
  block: [number, string];
  greylist: [number, string];
  unknownUser: [number, string];
  mailboxFull: [number, string];
}

export interface ProviderProfile {
  name: string;
  /** Loopback address the provider's MX listens on. */
  ip: string;
  mxHosts: string[];
  domains: string[];
  limits: ProviderLimits;
  replies: ProviderReplies;
  /** Deferrals of one sending IP within abuseWindowS that trigger a temporary block of blockS. */
  abuseDeferrals: number;
  abuseWindowS: number;
  blockS: number;
  /** Greylisting: the first attempt for a (sending IP, sender, recipient) is deferred for this long. */
  greylistS: number;
}

/**
 * The profile with time compressed `k`×: the abuse window, the block and greylisting divided by
 * k; rates, counts, connection limits and the buckets' depths unchanged. k = 1 is real time.
 */
export function timeScaled(p: ProviderProfile, k: number): ProviderProfile {
  if (!(k > 0)) throw new Error(`time scale must be > 0, got ${k}`);
  return { ...p, abuseWindowS: p.abuseWindowS / k, blockS: p.blockS / k, greylistS: p.greylistS / k };
}

const GMAIL_RATE = '4.7.28 [{ip}] Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited. Please visit https://support.google.com/mail/?p=UnsolicitedRateLimitError to review our Bulk Email Senders Guidelines. - gsmtp';

/**
 * Five providers with different limits, roughly shaped like the real ones (limits are invented: no
 * provider publishes them). Durations in real seconds: a one-second message bucket, a two-second
 * connection bucket, 5 min abuse window, 7.5 min block, 1 min greylisting.
 */
export function defaultProfiles(): ProviderProfile[] {
  return [
    {
      name: 'google',
      ip: '127.0.0.11',
      mxHosts: ['gmail-smtp-in.l.google.com'],
      domains: ['gmail.com', 'googlemail.com'],
      limits: { messagesPerSecond: 30, burstS: 1, maxConnections: 10, messagesPerConnection: 100, connectionsPerSecond: 5, connectionBurstS: 2 },
      replies: {
        rate: [421, GMAIL_RATE],
        connections: [421, '4.7.0 Try again later, closing connection. (EHLO) - gsmtp'],
        perConnection: [421, '4.7.0 Too many messages for this session, closing connection. - gsmtp'],
        block: [421, GMAIL_RATE],
        greylist: [451, '4.7.1 Greylisted, please try again later - gsmtp'],
        unknownUser: [550, "5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. - gsmtp"],
        mailboxFull: [452, '4.2.2 The recipient\'s inbox is out of storage space. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaTemp - gsmtp'],
      },
      abuseDeferrals: 60,
      abuseWindowS: 300,
      blockS: 450,
      greylistS: 60,
    },
    {
      name: 'microsoft',
      ip: '127.0.0.12',
      mxHosts: ['outlook-com.olc.protection.outlook.com'],
      domains: ['outlook.com', 'hotmail.com'],
      limits: { messagesPerSecond: 25, burstS: 1, maxConnections: 8, messagesPerConnection: 100, connectionsPerSecond: 5, connectionBurstS: 2 },
      replies: {
        rate: [451, '4.7.500 Server busy. Please try again later from [{ip}]. (S77719) [BN8NAM12FT045.eop-nam12.prod.protection.outlook.com]'],
        connections: [421, '4.3.2 The maximum number of concurrent server connections has exceeded a limit, closing transmission channel'],
        perConnection: [421, '4.3.2 Service not available, closing transmission channel'],
        block: [451, '4.7.650 The mail server [{ip}] has been temporarily rate limited due to IP reputation.'],
        greylist: [451, '4.7.1 Greylisted, please try again later'],
        unknownUser: [550, '5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient {rcpt} not found by SMTP address lookup'],
        mailboxFull: [452, '4.2.2 Mailbox full'],
      },
      abuseDeferrals: 50,
      abuseWindowS: 300,
      blockS: 450,
      greylistS: 60,
    },
    {
      name: 'yahoo',
      ip: '127.0.0.13',
      mxHosts: ['mta5.am0.yahoodns.net'],
      domains: ['yahoo.com', 'aol.com'],
      limits: { messagesPerSecond: 20, burstS: 1, maxConnections: 10, messagesPerConnection: 20, connectionsPerSecond: 5, connectionBurstS: 2 },
      replies: {
        rate: [421, '4.7.0 [TSS04] Messages from {ip} temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.verizonmedia.com/error-codes'],
        connections: [421, '4.7.0 [TSS04] Messages from {ip} temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.verizonmedia.com/error-codes'],
        perConnection: [421, '4.7.0 [TSS04] Messages from {ip} temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.verizonmedia.com/error-codes'],
        block: [421, '4.7.0 [TSS04] Messages from {ip} temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.verizonmedia.com/error-codes'],
        greylist: [451, '4.7.1 Greylisted, please try again later'],
        unknownUser: [554, "delivery error: dd This user doesn't have a yahoo.com account ({rcpt}) [0] - mta1234.mail.gq1.yahoo.com"],
        mailboxFull: [452, '4.2.2 Mailbox over quota'],
      },
      abuseDeferrals: 40,
      abuseWindowS: 300,
      blockS: 450,
      greylistS: 60,
    },
    {
      name: 'apple',
      ip: '127.0.0.14',
      mxHosts: ['mx01.mail.icloud.com'],
      domains: ['icloud.com', 'me.com'],
      limits: { messagesPerSecond: 10, burstS: 1, maxConnections: 10, messagesPerConnection: 5, connectionsPerSecond: 4, connectionBurstS: 2 },
      replies: {
        rate: [421, '4.7.0 [CS01] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137'],
        connections: [421, '4.7.0 [CS01] Too many connections. Please visit https://support.apple.com/en-us/HT204137'],
        perConnection: [421, '4.7.0 [CS01] Too many messages in this session. Please visit https://support.apple.com/en-us/HT204137'],
        block: [421, '4.7.0 [HM08] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137'],
        greylist: [451, '4.7.1 Greylisted, please try again later'],
        unknownUser: [550, '5.1.1 <{rcpt}>: user does not exist'],
        mailboxFull: [452, '4.2.2 <{rcpt}>: mailbox is full'],
      },
      abuseDeferrals: 30,
      abuseWindowS: 300,
      blockS: 450,
      greylistS: 60,
    },
    {
      name: 'gmx-webde',
      ip: '127.0.0.15',
      mxHosts: ['mx00.gmx.net'],
      domains: ['gmx.de', 'web.de'],
      limits: { messagesPerSecond: 15, burstS: 1, maxConnections: 3, messagesPerConnection: 50, connectionsPerSecond: 3, connectionBurstS: 2 },
      replies: {
        rate: [421, '4.7.0 gmx.net (mxgmx015) Nemesis ESMTP Service not available; Requested action aborted: too many messages; try again later'],
        connections: [421, '4.7.0 gmx.net (mxgmx015) Nemesis ESMTP Service not available; too many connections from your IP'],
        perConnection: [421, '4.7.0 gmx.net (mxgmx015) Nemesis ESMTP Service not available; too many messages in this session'],
        block: [421, '4.7.0 gmx.net (mxgmx015) Nemesis ESMTP Service not available; No SMTP service; IP address is temporarily block listed. For explanation visit https://postmaster.gmx.net/en/case?ip={ip}'],
        greylist: [451, '4.7.1 Greylisted, please try again later'],
        unknownUser: [550, '5.1.1 Requested action not taken: mailbox unavailable'],
        mailboxFull: [452, '4.2.2 Mailbox full'],
      },
      abuseDeferrals: 30,
      abuseWindowS: 300,
      blockS: 450,
      greylistS: 60,
    },
  ];
}
