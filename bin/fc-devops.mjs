#!/usr/bin/env node
// The fc-devops command. The CLI and the local runtime run from TypeScript source through tsx;
// the functions themselves always run as esbuild bundles, as they do on Function Compute.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../local/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
