import { readFileSync } from 'node:fs';

/** A V8 CPU profile (`--cpu-prof`), the fields used here. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Busy time (samples not idle), ms. */
  busyMs: number;
  /** Self time by area (package or node internals), in % of all samples, idle excluded from the total. */
  byArea: { area: string; pct: number }[];
  /** Heaviest functions by self time. */
  top: { fn: string; pct: number }[];
}

/** Which part of the code a frame belongs to, from its URL. */
function areaOf(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'gc';
  if (fn === '(program)' || fn === '(idle)' || fn === '(root)') return fn;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:').split('/')[0]!;
  if (url.includes('/dist/main.mjs')) return 'service code (bundle)';
  return url === '' ? 'native' : 'other';
}

/**
 * `window` (µs on the monotonic clock, as `process.hrtime.bigint() / 1000n`, which V8's profile
 * timestamps share on Linux) keeps only the samples taken inside it, e.g. the measured run
 * without the process's start-up (module loading, group join).
 */
export function summarizeProfile(file: string, top = 12, window?: { fromUs: number; toUs: number }): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let at = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    at += dt;
    if (window && (at < window.fromUs || at > window.toUs)) continue;
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + dt);
  }
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  let busy = 0;
  let total = 0;
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const { functionName, url, lineNumber } = n.callFrame;
    total += us;
    const area = areaOf(url, functionName);
    if (area === '(idle)') continue;
    busy += us;
    areas.set(area, (areas.get(area) ?? 0) + us);
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/services\//, 'services/')}:${lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  const pct = (us: number) => +((100 * us) / Math.max(1, busy)).toFixed(1);
  return {
    file,
    totalMs: Math.round(total / 1000),
    busyMs: Math.round(busy / 1000),
    byArea: [...areas].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, pct: pct(us) })),
    top: [...fns].sort((a, b) => b[1] - a[1]).slice(0, top).map(([fn, us]) => ({ fn, pct: pct(us) })),
  };
}

/** A short text table of several summaries: busy ms, top areas, heaviest functions. */
export function formatProfiles(profiles: Record<string, ProfileSummary>, areas = 6, fns = 10): string {
  const lines: string[] = [];
  for (const [name, p] of Object.entries(profiles)) {
    lines.push(`  ${name}: busy ${p.busyMs} ms of ${p.totalMs} ms`);
    lines.push(`    areas: ${p.byArea.slice(0, areas).map((a) => `${a.area} ${a.pct}%`).join(', ')}`);
    for (const f of p.top.slice(0, fns)) lines.push(`    ${String(f.pct).padStart(5)}%  ${f.fn}`);
  }
  return lines.join('\n');
}

// `node --import tsx bench/profile.ts DIR|FILE...`: summarises the profiles of a bench run.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { readdirSync, statSync } = await import('node:fs');
  const { basename, join } = await import('node:path');
  const out: Record<string, ProfileSummary> = {};
  for (const arg of process.argv.slice(2)) {
    const files = statSync(arg).isDirectory() ? readdirSync(arg).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(arg, f)) : [arg];
    for (const f of files) out[basename(f, '.cpuprofile')] = summarizeProfile(f, 15);
  }
  console.log(formatProfiles(out, 8, 15));
}
