import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadEnvFile } from './dotenv.ts';
import { callRoute, operatorOptions, type Route } from './signed-call.ts';

export const USAGE = `usage: fc-devops scale <command> <target> [options]
  status <target>                          size, bounds, running activity, hold, freeze, alarm floor
  set <target> <n> --reason TEXT [--clamp] [--dry-run]
                                           set the capacity by hand (held against schedules for its holdMinutes)
  freeze <target> --reason TEXT [--minutes N]
  unfreeze <target> [--reason TEXT]
  preview <target> [--days 14]             what its schedules will do, change by change
options: --url (default $FC_DEVOPS_SCALE_URL, else the scale function of the local runtime fc-devops dev runs)
         --key (default $FC_DEVOPS_KEY_ID), the secret from $FC_DEVOPS_KEY_SECRET or --secret-env NAME`;

export async function scaleCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...operatorOptions('FC_DEVOPS_SCALE_URL', 'scale'),
      reason: { type: 'string' },
      clamp: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      minutes: { type: 'string' },
      days: { type: 'string', default: '14' },
    },
  });
  const [command, target, n] = positionals;
  if (!command || !target) {
    console.error(USAGE);
    return 2;
  }
  const path = `/targets/${encodeURIComponent(target)}`;
  const desired = n === undefined ? Number.NaN : Number(n);
  const routes: Record<string, Route | string> = {
    status: { method: 'GET', path },
    set:
      !Number.isInteger(desired) || desired < 0
        ? 'scale set needs <target> <n> (a whole number)'
        : !values.reason
          ? 'scale set needs --reason TEXT'
          : {
              method: 'POST',
              path: `${path}/set`,
              body: { desired, reason: values.reason, clamp: values.clamp, dryRun: values['dry-run'] },
            },
    freeze: values.reason
      ? {
          method: 'POST',
          path: `${path}/freeze`,
          body: { reason: values.reason, ...(values.minutes ? { minutes: Number(values.minutes) } : {}) },
        }
      : 'scale freeze needs --reason TEXT',
    unfreeze: {
      method: 'POST',
      path: `${path}/unfreeze`,
      body: values.reason ? { reason: values.reason } : {},
    },
    preview: { method: 'GET', path: `${path}/preview`, query: { days: values.days } },
  };
  return callRoute('scale', command, routes, USAGE, values);
}

/**
 * A CloudMonitor threshold-alert callback as CloudMonitor sends it (form fields), to the scale
 * function's `/alarms/<target>/<secret>`.
 */
export async function sendAlarm(args: string[], baseUrl: string): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      target: { type: 'string' },
      state: { type: 'string', default: 'ALERT' },
      metric: { type: 'string', default: 'CPUUtilization' },
      name: { type: 'string' },
      value: { type: 'string', default: '91.5' },
      timestamp: { type: 'string' },
      'secret-env': { type: 'string', default: 'SCALE_ALARM_SECRET' },
      url: { type: 'string' },
      /** `monitor`: to the monitor function's receiver (`/alarms/<secret>`, no target). */
      to: { type: 'string', default: 'scale' },
    },
  });
  const toMonitor = values.to === 'monitor';
  if (toMonitor && values['secret-env'] === 'SCALE_ALARM_SECRET')
    values['secret-env'] = 'MONITOR_ALARM_SECRET';
  const url =
    values.url ??
    (toMonitor
      ? (process.env.FC_DEVOPS_MONITOR_URL ?? `${baseUrl}/monitor`)
      : (process.env.FC_DEVOPS_SCALE_URL ?? `${baseUrl}/scale`));
  // The sandbox's secret, as for `send git-push`: a variable you set yourself wins.
  loadEnvFile(resolve('local/dev.env'));
  const secret = process.env[values['secret-env']];
  if ((!values.target && !(toMonitor && values.name)) || !secret) {
    console.error(
      `usage: fc-devops send alarm --target T [--state ALERT|OK|INSUFFICIENT_DATA] [--metric CPUUtilization] [--name N] [--value V] [--timestamp EPOCH_S]\n       fc-devops send alarm --to monitor --name ALARM [...]\n  the callback secret comes from $${values['secret-env']} (--secret-env NAME)`,
    );
    return 2;
  }
  const body = new URLSearchParams({
    userId: '1234567890123456',
    alertName: values.name ?? `${values.target}-${values.metric.toLowerCase()}`,
    timestamp: values.timestamp ?? String(Math.floor(Date.now() / 1000)),
    alertState: values.state,
    dimensions: JSON.stringify([{ userId: '1234567890123456', instanceId: 'i-bp1sandbox0001' }]),
    expression: JSON.stringify([{ expression: '$Average>80', level: 4, times: 3 }]),
    curValue: values.value,
    metricName: values.metric,
    metricProject: 'acs_ecs_dashboard',
  });
  const path = toMonitor
    ? `/alarms/${encodeURIComponent(secret)}`
    : `/alarms/${encodeURIComponent(values.target!)}/${encodeURIComponent(secret)}`;
  const response = await fetch(`${url.replace(/\/+$/, '')}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: body.toString(),
  });
  console.log(await response.text());
  return response.ok ? 0 : 1;
}
