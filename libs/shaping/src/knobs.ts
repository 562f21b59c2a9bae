/** The shaping knobs every layer may set (BRIEF §6). */
export interface Knobs {
  /** Messages released per second for one (sending IP, site). */
  messagesPerSecond: number;
  /** Tokens that may accumulate while idle (0 = one second's worth, at least 1). */
  burst: number;
  /** Concurrent SMTP connections the sender opens to the site from one IP. */
  maxConnections: number;
  /** Messages over one connection before it is replaced. */
  messagesPerConnection: number;
  /** New connections per second (caps the release rate at connectionsPerSecond × messagesPerConnection). */
  connectionsPerSecond: number;
  tls: TlsPolicy;
}

export const TLS_POLICIES = ['opportunistic', 'required', 'disabled'] as const;
export type TlsPolicy = (typeof TLS_POLICIES)[number];

/** Bounds and steps of the continuous adaptation (AIMD) of the message rate. */
export interface Adaptive {
  enabled: boolean;
  /** Lowest and highest message rate adaptation may choose. */
  minRate: number;
  maxRate: number;
  /** Messages/s added after a healthy interval. */
  increase: number;
  /** Factor applied on deferrals/blocks (0 < decrease < 1). */
  decrease: number;
  /** Seconds between two changes of one lane (Momentum: 60). */
  intervalS: number;
  /** Until the first deferral, the rate grows by this factor per healthy interval (slow start; 1 = off). */
  slowStart: number;
  /**
   * After a decrease (deferrals, blocks, lower-rate), the rate grows by this factor per healthy
   * interval until it is back at the last rate known to be healthy, then additively (TCP's slow
   * start up to ssthresh; 1 = off: additive only).
   */
  recovery: number;
}

export const KNOB_NAMES = ['messagesPerSecond', 'burst', 'maxConnections', 'messagesPerConnection', 'connectionsPerSecond', 'tls'] as const;
export const INTEGER_KNOBS: ReadonlySet<string> = new Set(['burst', 'maxConnections', 'messagesPerConnection']);

export const BASE_KNOBS: Knobs = {
  messagesPerSecond: 50,
  burst: 0,
  maxConnections: 10,
  messagesPerConnection: 100,
  connectionsPerSecond: 1000,
  tls: 'opportunistic',
};

/** Adaptation is opt-in: a file without `adaptive` keeps static limits. */
export const BASE_ADAPTIVE: Adaptive = { enabled: false, minRate: 0.5, maxRate: 500, increase: 1, decrease: 0.7, intervalS: 60, slowStart: 1, recovery: 2 };

/** Token bucket size for the knobs: `burst`, or one second's worth (at least 1). */
export function burstOf(k: Pick<Knobs, 'burst' | 'messagesPerSecond'>): number {
  return k.burst > 0 ? k.burst : Math.max(1, Math.ceil(k.messagesPerSecond));
}
