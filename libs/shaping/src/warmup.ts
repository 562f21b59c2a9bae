const DAY_MS = 86_400_000;

/** Day number of a time (UTC days since the epoch). */
export const dayOf = (ms: number): number => Math.floor(ms / DAY_MS);

/**
 * Messages a new IP may send to one provider today: the schedule's entry for the day since
 * `warmupStart` (day 0 = first entry); undefined once the schedule is over (the IP is warm) or
 * for an IP that is not new.
 */
export function warmupAllowance(schedule: readonly number[], warmupStart: string | undefined, now: number): number | undefined {
  if (warmupStart === undefined) return undefined;
  const day = dayOf(now) - dayOf(Date.parse(warmupStart));
  if (day < 0) return 0;
  return day < schedule.length ? schedule[day] : undefined;
}

export interface IpCandidate {
  ip: string;
  /** Daily allowance left for the provider (undefined = warm, unlimited by warm-up). */
  left: number | undefined;
  /** Disabled or suspended for this site. */
  unavailable: boolean;
}

/**
 * Picks the source IP for a message from its pool: new IPs first while they have allowance
 * left (so they warm up), otherwise the warm IPs in turn (`turn` rotates among them). undefined =
 * no IP may send now (every one spent or unavailable): the message waits.
 */
export function chooseSourceIp(candidates: readonly IpCandidate[], turn: number): string | undefined {
  const usable = candidates.filter((c) => !c.unavailable);
  const warming = usable.find((c) => c.left !== undefined && c.left > 0);
  if (warming) return warming.ip;
  const warm = usable.filter((c) => c.left === undefined);
  if (warm.length === 0) return undefined;
  return warm[((turn % warm.length) + warm.length) % warm.length]!.ip;
}
