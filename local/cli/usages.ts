// The usage of the commands whose options live in commands.ts and bench.ts.

export const DEV_USAGE = `usage: fc-devops dev [--template s.yaml] [--config fc-devops.example.yaml] [--port 8787] [--sandbox-port 8788]
                     [--seed local/sandbox/seed.example.json] [--state .fc-devops] [--no-watch]
  Run every function of the template locally (npm start): HTTP, timer and OSS triggers, the FC invoke
  API, the async queue, the state store and the sandbox cloud. One dev per state directory.`;

export const BUILD_USAGE = `usage: fc-devops build [--root .]
  Bundle functions/*/index.ts into dist/<name>/index.mjs and ship fc-devops.yaml compiled beside each.`;

export const CONFIG_USAGE = `usage: fc-devops config check [file] [--cloud]
  Validate fc-devops.yaml (default $FC_DEVOPS_CONFIG, else ./fc-devops.yaml) and that every \${env:NAME} is set.
  --cloud also asks the cloud what only it knows: that RDS copies backups from the region to each
  policy's second region, that each instance's engine can be copied, that a dump policy's second
  bucket is in its region. It uses ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET, or the sandbox at
  $FC_DEVOPS_CLOUD_URL (what npm start runs) when those are not set.`;

export const INVOKE_USAGE = `usage: fc-devops invoke <function> [--event file|-] [--async] [--url URL]
       fc-devops invoke <function> --example <trigger> [--async] [--url URL]
  Invoke a function of the running local runtime with an event, as FC does (sync unless --async).
  --example sends a realistic event of one of the function's triggers (http, timer, oss, or one of
  its job kinds); fc-devops invoke <function> --example list lists them.
  Exit status 1 when the function failed or rejected the event.`;

export const SEND_USAGE = `usage: fc-devops send oss-put --bucket B --key K [--file F] [--url URL]
       fc-devops send git-push --repo PATH [--host github|gitlab|codeup|gitee] [--form] [--delivery ID] [--secret-env GIT_WEBHOOK_SECRET] [--url URL]
       fc-devops send alarm --target T [--state ALERT|OK] [--metric M] [--url URL]
       fc-devops send alarm --to monitor --name ALARM [--url URL]`;

export const BENCH_USAGE = `usage: fc-devops bench [--template s.yaml] [--only cold-start,store,notify,retention,terraform,scale,monitor,webhook] [--json] [--check]
  --json   the figures that have goals, as JSON on stdout (the benches' own lines go to stderr)
  --check  exit 1 when a bundle or a cold start is over its budget (CI)`;

export const CONSOLE_USAGE = `usage: fc-devops console
  Print the address of the web console of the local runtime (sign in there with an operator key).`;
