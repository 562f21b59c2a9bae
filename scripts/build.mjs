#!/usr/bin/env node
// Bundles each service's entry point with esbuild into services/<name>/dist/main.mjs, with the
// workspace libs inlined and npm packages left to Node. Services run from these bundles: no
// TypeScript loader on the hot path (tsx's resolve hooks cost more CPU than the pipeline itself).
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const SERVICES = ['ingest', 'throttle', 'sender', 'bounce-classifier', 'feedback'];

const pkgName = (spec) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');

// npm packages stay external. One that npm did not hoist to the root node_modules (a version
// pinned by a workspace) is imported by its relative path, which Node then loads as usual.
const externalNpm = (outDir) => ({
  name: 'external-npm',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.path.startsWith('@mta/') || args.path.startsWith('node:') || args.pluginData === 'inner') return undefined;
      const name = pkgName(args.path);
      if (existsSync(join(root, 'node_modules', name)) || isBuiltin(name)) return { path: args.path, external: true };
      const r = await b.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, pluginData: 'inner' });
      if (r.errors.length) return { errors: r.errors };
      return { path: './' + relative(outDir, r.path).split(sep).join('/'), external: true };
    });
  },
});

const t0 = Date.now();
await Promise.all(
  SERVICES.map((s) =>
    build({
      entryPoints: [`${root}services/${s}/src/main.ts`],
      outfile: `${root}services/${s}/dist/main.mjs`,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: true,
      plugins: [externalNpm(`${root}services/${s}/dist`)],
      logLevel: 'warning',
      banner: { js: `// Built from services/${s}/src by scripts/build.mjs; do not edit.` },
    }),
  ),
);
if (!process.argv.includes('--quiet')) console.log(`built ${SERVICES.length} services in ${Date.now() - t0} ms`);
