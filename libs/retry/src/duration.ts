/**
 * Durations as operators write them: `500ms`, `90s`, `5m`, `1h30m`, `2d`. One or more
 * `<integer or decimal><unit>` parts, no spaces inside.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

/** Milliseconds of a duration, or an Error saying what is wrong with it. */
export function parseDuration(text: string): number | Error {
  const t = text.trim();
  if (t === '') return new Error('empty duration');
  PART.lastIndex = 0;
  let total = 0;
  let end = 0;
  for (let m = PART.exec(t); m; m = PART.exec(t)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    end = PART.lastIndex;
  }
  if (end !== t.length) return new Error(`"${t}" is not a duration (e.g. 500ms, 90s, 5m, 1h30m, 2d)`);
  return Math.round(total);
}

/** Short human form of a duration, for logs and docs: 90000 → `1m30s`. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}
