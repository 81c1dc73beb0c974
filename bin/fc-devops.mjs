#!/usr/bin/env node
// The fc-devops command. The CLI and the local runtime run from TypeScript source through tsx;
// the functions themselves always run as esbuild bundles, as they do on Function Compute.
import { register } from 'tsx/esm/api';

// A reader that goes away (`| head -1`) is not an error: stop quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}
register();
const { main } = await import('../local/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
