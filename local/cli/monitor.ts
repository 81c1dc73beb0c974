import { parseArgs } from 'node:util';
import { callRoute, operatorOptions, type Route } from './signed-call.ts';

export const USAGE = `usage: fc-devops monitor <command> [options]
  status [check]                      every check (up/down, since when, last 24 h), or one with its
                                      latency percentiles and availability over 1 h, 24 h, 7 d and 30 d
  history <check> [--limit N]         its probes, newest first
  silences                            silences in force
  silence <check>... --until ISO-TIME --reason TEXT
                                      no alerts for those checks until then (signed, audited)
  unsilence <silence-id>              end a silence early
options: --url (default $FC_DEVOPS_MONITOR_URL, else the monitor function of the local runtime fc-devops dev runs)
         --key (default $FC_DEVOPS_KEY_ID), the secret from $FC_DEVOPS_KEY_SECRET or --secret-env NAME`;

export async function monitorCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...operatorOptions('FC_DEVOPS_MONITOR_URL', 'monitor'),
      limit: { type: 'string' },
      until: { type: 'string' },
      reason: { type: 'string' },
    },
  });
  const [command, ...names] = positionals;
  if (!command) {
    console.error(USAGE);
    return 2;
  }
  const [first] = names;
  const routes: Record<string, Route | string> = {
    status: { method: 'GET', path: first ? `/checks/${encodeURIComponent(first)}` : '/checks' },
    history: first
      ? {
          method: 'GET',
          path: `/checks/${encodeURIComponent(first)}/history`,
          ...(values.limit ? { query: { limit: values.limit } } : {}),
        }
      : 'monitor history needs <check>',
    silences: { method: 'GET', path: '/silences' },
    silence:
      names.length === 0
        ? 'monitor silence needs one or more checks'
        : !values.until || !values.reason
          ? 'monitor silence needs --until ISO-TIME and --reason TEXT'
          : {
              method: 'POST',
              path: '/silences',
              body: { checks: names, until: values.until, reason: values.reason },
            },
    unsilence: first
      ? { method: 'POST', path: `/silences/${encodeURIComponent(first)}/end`, body: {} }
      : 'monitor unsilence needs <silence-id>',
  };
  return callRoute('monitor', command, routes, USAGE, values);
}
