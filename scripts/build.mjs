#!/usr/bin/env node
// Bundles each service's entry point with esbuild into services/<name>/dist/main.mjs, with the
// workspace libs inlined and npm packages left to Node. Services run from these bundles: no
// TypeScript loader on the hot path (tsx's resolve hooks cost more CPU than the pipeline itself).
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const SERVICES = ['ingest', 'throttle', 'sender', 'bounce-classifier', 'feedback'];

const pkgName = (spec) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');

// npm packages hoisted to the root node_modules stay external (Node loads them as usual). One
// that npm nested under a workspace (a version pinned there) is bundled instead, since Node would
// not find it from services/<name>/dist.
const externalNpm = {
  name: 'external-npm',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@mta/')) return undefined;
      const name = pkgName(args.path.replace(/^node:/, ''));
      if (isBuiltin(name) || existsSync(join(root, 'node_modules', name))) return { path: args.path, external: true };
      return undefined;
    });
  },
};

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
      plugins: [externalNpm],
      logLevel: 'warning',
      // The first import, so it runs before kafkajs loads: a faster CRC-32C for kafkajs (libs/kafka/src/kafkajs-patch.ts).
      banner: { js: `// Built from services/${s}/src by scripts/build.mjs; do not edit.\nimport './kafkajs-patch.cjs';\nimport { createRequire as __mtaCreateRequire } from 'node:module';\nconst require = __mtaCreateRequire(import.meta.url);` },
    }),
  ).concat(
    SERVICES.map((s) =>
      build({
        entryPoints: [`${root}libs/kafka/src/kafkajs-patch-entry.ts`],
        outfile: `${root}services/${s}/dist/kafkajs-patch.cjs`,
        bundle: true,
        // a native addon: loaded from node_modules at run time (kafkajs-patch.ts falls back to JS)
        external: ['@node-rs/crc32'],
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        logLevel: 'warning',
      }),
    ),
  ),
);
if (!process.argv.includes('--quiet')) console.log(`built ${SERVICES.length} services in ${Date.now() - t0} ms`);
