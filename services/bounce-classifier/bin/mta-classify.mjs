#!/usr/bin/env node
// `npx mta-classify FILE.eml ...` / `npx mta-classify --reply "550 5.1.1 ..."`: runs the
// TypeScript CLI through tsx's loader (a dev dependency of the repository), so no build step is
// needed after `npm ci`.
import { register } from 'tsx/esm/api';

register();
// `npx mta-classify *.eml | head`: a reader that stops early is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});
const { main } = await import('../src/cli/mta-classify.ts');
process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
