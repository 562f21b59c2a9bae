/**
 * Automation on replies: a reply pattern fires immediately or past a count per window, and
 * applies one action of a closed set for a duration.
 */
export type Action =
  | { type: 'suspend' }
  | { type: 'lower-rate'; factor: number }
  | { type: 'lower-connections'; to: number }
  | { type: 'disable-ip' }
  | { type: 'bounce-queue' };
export type ActionType = Action['type'];
export const ACTION_TYPES: readonly ActionType[] = ['suspend', 'lower-rate', 'lower-connections', 'disable-ip', 'bounce-queue'];

export type Trigger = { kind: 'immediate' } | { kind: 'count'; count: number; windowS: number };

export interface AutomationRule {
  /** Where the rule was written, for reasons and the linter (`providers.google.automation[0]`). */
  id: string;
  pattern: RegExp;
  trigger: Trigger;
  action: Action;
  durationS: number;
}

/** Human text of an action, for the operator surface. */
export function describeAction(a: Action): string {
  switch (a.type) {
    case 'suspend':
      return 'suspend sending';
    case 'lower-rate':
      return `lower the rate ×${a.factor}`;
    case 'lower-connections':
      return `lower connections to ${a.to}`;
    case 'disable-ip':
      return 'disable this source IP for the site';
    case 'bounce-queue':
      return 'bounce the queued messages';
    default:
      return assertNever(a);
  }
}

export function assertNever(x: never): never {
  throw new Error(`unhandled case ${JSON.stringify(x)}`);
}
