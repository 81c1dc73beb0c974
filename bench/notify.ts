import { dingtalkBody, slackBody } from '../functions/notify/channels/format.ts';
import { renderGroup } from '../functions/notify/render.ts';
import { route } from '../functions/notify/routing.ts';
import { parseConfig } from '../shared/config/load.ts';
import { NotifyEventSchema } from '../shared/notify/event.ts';

const N = Number(process.env.BENCH_NOTIFY_EVENTS ?? 50_000);

/** Routing and rendering throughput: the pure part of notify, per event. */
export function runNotifyBench(): void {
  const notifications = parseConfig(
    `region: cn-hangzhou
notifications:
  channels:
    ding: { type: dingtalk, webhook: "\${env:D}" }
    slack: { type: slack, webhook: "\${env:S}" }
  routes:
${Array.from({ length: 20 }, (_, i) => `    - { match: { kinds: ["team${i}.**"], severity: warning, labels: { env: prod } }, channels: [ding], continue: true }`).join('\n')}
    - { match: { kinds: ["**"] }, channels: [slack, ding] }
`,
    'bench.yaml',
  ).notifications;
  const events = Array.from({ length: 1000 }, (_, i) =>
    NotifyEventSchema.parse({
      id: `e${i}`,
      kind: `team${i % 25}.build.failed`,
      severity: i % 2 ? 'error' : 'info',
      subject: `service-${i}`,
      summary: 'build failed',
      details: { logTail: 'x'.repeat(200) },
      labels: { env: i % 3 ? 'prod' : 'dev' },
      time: '2026-11-27T10:00:00Z',
    }),
  );
  let t = performance.now();
  let routed = 0;
  for (let i = 0; i < N; i++) routed += route(events[i % events.length]!, notifications).length;
  const routing = N / ((performance.now() - t) / 1000);
  t = performance.now();
  let bytes = 0;
  for (let i = 0; i < N; i++) {
    const message = renderGroup([events[i % events.length]!], false);
    bytes +=
      JSON.stringify(dingtalkBody(message, { atMobiles: [], atAll: false })).length +
      JSON.stringify(slackBody(message)).length;
  }
  const rendering = N / ((performance.now() - t) / 1000);
  console.log(`\nnotify: ${N} events over 21 routes`);
  console.log(
    `  routing                 ${routing.toFixed(0).padStart(9)} events/s (${(routed / N).toFixed(2)} channels each)`,
  );
  console.log(
    `  rendering (2 channels)  ${rendering.toFixed(0).padStart(9)} events/s (${(bytes / N).toFixed(0)} bytes each)`,
  );
}
