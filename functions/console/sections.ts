import { type Action, allowed } from '../../shared/auth/roles.ts';
import type { Config } from '../../shared/config/schema/index.ts';
import type { HttpRequest, HttpResponse } from '../../shared/events/http.ts';
import { channelKey } from '../../shared/images/build-job.ts';
import type { HandlerContext } from '../../shared/runtime/define-handler.ts';
import { own } from '../../shared/util/records.ts';
import { type Point, timeChart } from './charts.ts';
import { type Answer, callFunction, problem } from './forward.ts';
import { actionForm, ago, type Chrome, dl, errorPage, h, layout, page, type Raw, table } from './html.ts';
import { runRows } from './runs-view.ts';

type Who = { keyId: string; token: string };

interface Section {
  path: string;
  label: string;
  /** The targets the section shows; the key sees the section when it may view one of them. */
  targets: (config: Config) => string[];
}

const names = (o: object | undefined) => Object.keys(o ?? {});

export const SECTIONS: readonly Section[] = [
  { path: '/runs', label: 'Runs', targets: () => ['runs'] },
  {
    path: '/images',
    label: 'Images',
    targets: (c) => [...names(c.images.pipelines), ...imageTargets(c)],
  },
  { path: '/terraform', label: 'Terraform', targets: (c) => names(c.terraform.workspaces) },
  {
    path: '/environments',
    label: 'Environments',
    targets: (c) =>
      Object.entries(c.terraform.workspaces)
        .filter(([, w]) => w.environments)
        .map(([n]) => n),
  },
  { path: '/backups', label: 'Backups', targets: (c) => names(c.backups.policies) },
  { path: '/scaling', label: 'Scaling', targets: (c) => names(c.scaling.targets) },
  { path: '/releases', label: 'Releases', targets: (c) => names(c.releases.targets) },
  { path: '/audit', label: 'Audit', targets: () => ['audit'] },
];

const imageTargets = (c: Config) =>
  Object.entries(c.releases.targets)
    .filter(([, t]) => t.kind === 'image-channel')
    .map(([n]) => n);

export function visibleSections(config: Config, keyId: string) {
  return SECTIONS.filter((s) => s.targets(config).some((t) => allowed(config.access.keys, keyId, 'view', t)));
}

const may = (ctx: HandlerContext, keyId: string, action: Action, target: string) =>
  allowed(ctx.config.access.keys, keyId, action, target);

export async function sectionPage(
  ctx: HandlerContext,
  c: Chrome,
  who: Who,
  path: string,
): Promise<HttpResponse> {
  const section = SECTIONS.find((s) => s.path === path)!;
  const visible = section.targets(ctx.config).filter((t) => may(ctx, who.keyId, 'view', t));
  const chrome = { ...c, title: section.label, current: path };
  if (visible.length === 0)
    return errorPage(chrome, 403, `Key ${who.keyId} may not view ${section.label.toLowerCase()}.`);
  const call = (fn: string, p: string, query?: Record<string, string>) =>
    callFunction(process.env, who.token, fn, 'GET', p, query ? { query } : {});
  let body: Raw;
  switch (path) {
    case '/releases':
      body = await releases(ctx, chrome, who, visible, call);
      break;
    case '/images':
      body = await images(ctx, chrome, who, visible, call);
      break;
    case '/terraform':
      body = await terraform(ctx, chrome, who, visible, call);
      break;
    case '/environments':
      body = await environments(ctx, chrome, who, call);
      break;
    case '/backups':
      body = await backups(ctx, chrome, who, visible, call);
      break;
    default:
      body = await scaling(ctx, chrome, who, visible, call);
  }
  return page(200, layout(chrome, body));
}

type Get = (fn: string, path: string, query?: Record<string, string>) => Promise<Answer>;

const shown = (a: Answer) => (a.status < 300 ? dl(a.body) : h`<p class="error">${problem(a)}</p>`);

async function releases(ctx: HandlerContext, c: Chrome, who: Who, visible: string[], call: Get) {
  const parts: Raw[] = [];
  for (const name of visible) {
    const t = own(ctx.config.releases.targets, name)!;
    const [status, history] = await Promise.all([
      call('release', `/targets/${name}`),
      call('release', `/targets/${name}/history`),
    ]);
    const fields =
      t.kind === 'fc-alias'
        ? '<input name="version" placeholder="version (blank: publish LATEST)" size="28">'
        : t.kind === 'k8s-deployment'
          ? '<input name="tag" placeholder="tag (blank: the channel\'s image)" size="28">'
          : '';
    parts.push(h`<section data-test="release-${name}"><h2>${name} <small class="muted">${t.kind}</small></h2>
${shown(status)}
<p>${may(ctx, who.keyId, 'promote', name) ? actionForm(c, `/releases/${name}/promote`, 'Promote', fields, { test: `promote-${name}` }) : ''}${
      may(ctx, who.keyId, 'rollback', name)
        ? actionForm(c, `/releases/${name}/rollback`, 'Roll back', '', {
            danger: true,
            test: `rollback-${name}`,
          })
        : ''
    }${
      may(ctx, who.keyId, 'approve', name)
        ? actionForm(
            c,
            `/releases/approvals/approve`,
            'Approve',
            '<input name="approval" placeholder="approval id" size="14"> <input name="token" placeholder="approval token" size="20">',
            { test: `approve-${name}` },
          )
        : ''
    }</p>
<details><summary>History</summary>${shown(history)}</details></section>`);
  }
  return h`${parts}`;
}

async function images(ctx: HandlerContext, c: Chrome, who: Who, visible: string[], call: Get) {
  const pipelines = visible.filter((n) => own(ctx.config.images.pipelines, n));
  const rows = [];
  for (const name of pipelines) {
    const p = own(ctx.config.images.pipelines, name)!;
    const channel = p.channel;
    const history = channel
      ? await ctx.store.readHistory<{ images: Record<string, string>; commit: string }>(channelKey(channel), {
          limit: 5,
        })
      : [];
    rows.push([
      name,
      p.repository.url,
      p.template,
      channel ?? '',
      history[0]
        ? h`${Object.entries(history[0].value.images).map(([r, id]) => h`<div>${r}: ${id}</div>`)}<span class="muted">${history[0].value.commit.slice(0, 12)}, ${ago(history[0].createdAt, ctx.now())}</span>`
        : '',
      may(ctx, who.keyId, 'run', name)
        ? actionForm(
            c,
            `/images/${name}/build`,
            'Rebuild',
            '<input name="commit" placeholder="commit" size="14" required>',
          )
        : '',
    ]);
  }
  const channels = imageTargets(ctx.config).filter((n) => visible.includes(n));
  const channelParts: Raw[] = [];
  for (const name of channels) {
    const status = await call('release', `/targets/${name}`);
    channelParts.push(
      h`<h3>${name}</h3>${shown(status)}<p>${
        may(ctx, who.keyId, 'promote', name)
          ? actionForm(c, `/releases/${name}/promote`, 'Promote', '', { test: `promote-${name}` })
          : ''
      }${may(ctx, who.keyId, 'rollback', name) ? actionForm(c, `/releases/${name}/rollback`, 'Roll back', '', { danger: true }) : ''}</p>`,
    );
  }
  const prune = ctx.config.images.prune && may(ctx, who.keyId, 'run', 'image-prune');
  return h`<h2>Pipelines</h2>${table(['pipeline', 'repository', 'template', 'channel', 'on the channel', ''], rows, 'pipelines')}
${prune ? h`<p>${actionForm(c, '/images/prune', 'Prune (dry run)', '<input type="hidden" name="dryRun" value="true">')}${actionForm(c, '/images/prune', 'Prune now', '<input type="hidden" name="dryRun" value="false">', { danger: true })}</p>` : ''}
<h2>Channels</h2>${channelParts.length ? channelParts : h`<p class="empty">No image-channel release targets.</p>`}
<h2>Recent builds</h2>${table(['run', 'kind', 'subject', 'status', 'created', 'took', 'stage'], runRows(c, (await ctx.store.listRuns({ kind: 'image.build', limit: 10 })).runs, ctx.now()))}`;
}

async function terraform(ctx: HandlerContext, c: Chrome, who: Who, visible: string[], call: Get) {
  const parts: Raw[] = [];
  for (const ws of visible) {
    const status = await call('terraform', `/workspaces/${ws}`);
    const plans = status.status < 300 ? ((status.body as { plans?: PlanView[] }).plans ?? []) : [];
    parts.push(h`<section data-test="workspace-${ws}"><h2>${ws}</h2>
${status.status >= 300 ? h`<p class="error">${problem(status)}</p>` : ''}
${table(
  ['plan', 'status', 'changes', 'source', 'asked by', 'approvals', 'expires', ''],
  plans.map((p) => [
    p.id,
    h`<span data-test="plan-status-${p.id}">${p.status}</span>`,
    h`${p.changes}${p.destructive ? h` <strong class="error">destructive</strong>` : ''}`,
    dl(p.source),
    p.requestedBy ?? '',
    `${p.approvals.approvedBy.length}/${p.approvals.needed}${p.approvals.approvedBy.length ? ` (${p.approvals.approvedBy.join(', ')})` : ''}`,
    ago(p.expiresAt, ctx.now()),
    p.status === 'awaiting-approval'
      ? h`${may(ctx, who.keyId, 'approve', ws) ? actionForm(c, `/terraform/${ws}/plans/${p.id}/approve`, 'Approve', '', { test: `approve-${p.id}` }) : ''}${
          may(ctx, who.keyId, 'approve', ws)
            ? actionForm(c, `/terraform/${ws}/plans/${p.id}/reject`, 'Reject', '', { danger: true })
            : ''
        }`
      : p.status === 'approved' && may(ctx, who.keyId, 'apply', ws)
        ? actionForm(c, `/terraform/${ws}/plans/${p.id}/apply`, 'Apply', '', { danger: true })
        : '',
  ]),
  `plans-${ws}`,
)}
${may(ctx, who.keyId, 'plan', ws) ? h`<p>${actionForm(c, `/terraform/${ws}/plan`, 'Plan a commit', '<input name="commit" placeholder="full commit id" size="42" required>')}</p>` : ''}</section>`);
  }
  return h`${parts}`;
}

interface PlanView {
  id: string;
  status: string;
  changes: string;
  destructive: boolean;
  source: unknown;
  requestedBy?: string;
  approvals: { needed: number; approvedBy: string[] };
  expiresAt: string;
}

async function environments(ctx: HandlerContext, c: Chrome, who: Who, call: Get) {
  const list = await call('terraform', '/environments');
  if (list.status >= 300) return h`<p class="error">${problem(list)}</p>`;
  const envs = ((list.body as { environments?: EnvView[] }).environments ?? []) as EnvView[];
  return table(
    ['environment', 'template', 'owner', 'status', 'time left', ''],
    envs.map((e) => [
      e.id,
      e.template,
      e.owner,
      e.status,
      h`<span title="${e.expiresAt}" data-test="left-${e.id}">${ago(e.expiresAt, ctx.now())}</span>`,
      may(ctx, who.keyId, 'env', e.template)
        ? h`${actionForm(c, `/environments/${e.id}/extend`, 'Extend', '<select name="by"><option>2h</option><option>8h</option><option>1d</option></select>')}${actionForm(c, `/environments/${e.id}/destroy`, 'Destroy', '', { danger: true, test: `destroy-${e.id}` })}`
        : '',
    ]),
    'environments',
  );
}

interface EnvView {
  id: string;
  template: string;
  owner: string;
  status: string;
  expiresAt: string;
}

async function backups(ctx: HandlerContext, c: Chrome, who: Who, visible: string[], call: Get) {
  const parts: Raw[] = [];
  const now = ctx.now();
  for (const name of visible) {
    const [rotations, drills] = await Promise.all([
      ctx.store.listRuns({ kind: 'backup.rotate', limit: 200 }),
      ctx.store.listRuns({ kind: 'backup.drill', limit: 200 }),
    ]);
    const mine = (r: { subject: string }) => r.subject === name || r.subject.startsWith(`${name}/`);
    const rot = rotations.runs.filter(mine).slice(0, 10);
    const drillPoints: Point[] = drills.runs
      .filter(mine)
      .map((r) => ({ r, s: (r.result as { secondsToRestore?: number } | null)?.secondsToRestore }))
      .filter((x): x is { r: (typeof drills.runs)[number]; s: number } => typeof x.s === 'number')
      .map(({ r, s }) => ({ at: r.finishedAt ?? r.createdAt, value: s, label: r.subject }));
    const last = rot.find((r) => r.status === 'succeeded');
    const result = (last?.result ?? null) as {
      created?: string;
      kept?: number;
      deleted?: string[];
      skippedCreate?: string;
    } | null;
    parts.push(h`<section data-test="policy-${name}"><h2>${name}</h2>
${last ? h`<p>Last rotation ${ago(last.finishedAt, now)}: ${result?.created ? h`made <code>${result.created}</code>, ` : result?.skippedCreate ? h`made none (${result.skippedCreate}), ` : ''}kept ${result?.kept ?? '?'}, deleted ${result?.deleted?.length ?? 0}${result?.deleted?.length ? h` (${result.deleted.join(', ')})` : ''}. Why each was kept or deleted: <a href="${c.base}/runs/${last.id}">its log</a>.</p>` : h`<p class="empty">No rotation yet.</p>`}
${timeChart(drillPoints, { title: 'Restore drills: time to restore', unit: 's', test: `drill-chart-${name}` })}
${own(ctx.config.backups.policies, name)?.crossRegion ? await regionsOf(call, name) : ''}
${table(['run', 'kind', 'subject', 'status', 'created', 'took', 'stage'], runRows(c, rot, now))}
${may(ctx, who.keyId, 'run', name) ? h`<p>${actionForm(c, `/backups/${name}/run`, 'Rotate (dry run)', '<input type="hidden" name="dryRun" value="true">')}${actionForm(c, `/backups/${name}/run`, 'Rotate now', '<input type="hidden" name="dryRun" value="false">', { danger: true })}${actionForm(c, `/backups/${name}/run`, 'Restore drill', '<input type="hidden" name="drill" value="true"><input type="hidden" name="dryRun" value="false">')}</p>` : ''}</section>`);
  }
  return h`${parts}`;
}

interface RegionsView {
  regions: {
    region: string;
    role: string;
    holds: { instanceId: string; count?: number; newest?: string; source?: string; error?: string }[];
    drills: { instanceId: string; secondsToRestore: number; at: string }[];
    behind: string[];
  }[];
  warnings: string[];
}

/** A policy's regions side by side: what each holds, its last drill, what is behind (backup-rotate answers). */
async function regionsOf(call: Get, name: string): Promise<Raw> {
  const answer = await call('backup-rotate', `/policies/${name}/regions`);
  if (answer.status !== 200) return h`<p class="notice">Regions: ${problem(answer)}</p>`;
  const view = answer.body as RegionsView;
  const rows = view.regions.flatMap((r) =>
    r.holds.map((x) => [
      h`${r.region} (${r.role})`,
      x.instanceId,
      x.count ?? '?',
      x.newest ?? '',
      r.drills.find((d) => d.instanceId === x.instanceId || x.instanceId.endsWith(`/${d.instanceId}`))
        ?.secondsToRestore ?? '',
      [x.source, x.error].filter(Boolean).join('; '),
    ]),
  );
  return h`${table(['region', 'what', 'count', 'newest', 'last drill (s)', 'note'], rows, `regions-${name}`)}${view.warnings.map((w) => h`<p class="notice" data-test="region-warning">${w}</p>`)}`;
}

async function scaling(ctx: HandlerContext, c: Chrome, who: Who, visible: string[], call: Get) {
  const parts: Raw[] = [];
  for (const name of visible) {
    const [status, preview] = await Promise.all([
      call('scale', `/targets/${name}`),
      call('scale', `/targets/${name}/preview`, { days: '7' }),
    ]);
    const points: Point[] = [];
    if (preview.status < 300) {
      const p = preview.body as {
        from: string;
        now: number;
        changes: { at: string; to?: number; stays?: number; rule: string }[];
      };
      points.push({ at: new Date(p.from), value: p.now, label: 'now' });
      for (const ch of p.changes)
        if (ch.to !== undefined) points.push({ at: new Date(ch.at), value: ch.to, label: ch.rule });
      // Capacity holds after the last change: the line runs to the end of the window.
      points.push({
        at: new Date((p as { to?: string }).to ?? p.from),
        value: points[points.length - 1]!.value,
        label: 'end',
      });
    }
    // Recent changes: the runs that set this target (by hand, schedule or alarm) and followed them.
    const recent = (await ctx.store.listRuns({ subject: name, limit: 10 })).runs;
    parts.push(h`<section data-test="scaling-${name}"><h2>${name}</h2>
${timeChart(points, { title: 'Capacity, the next 7 days', unit: 'instances', kind: 'step', test: `capacity-${name}` })}
${shown(status)}
<h3>Recent changes</h3>${table(['run', 'kind', 'subject', 'status', 'created', 'took', 'stage'], runRows(c, recent, ctx.now()))}
${may(ctx, who.keyId, 'scale', name) ? h`<p>${actionForm(c, `/scaling/${name}/set`, 'Set', '<input name="desired" type="number" min="0" placeholder="instances" required> <input name="reason" placeholder="reason" required>')}${actionForm(c, `/scaling/${name}/freeze`, 'Freeze', '<input name="reason" placeholder="reason" required>', { danger: true })}${actionForm(c, `/scaling/${name}/unfreeze`, 'Unfreeze', '')}</p>` : ''}</section>`);
  }
  return h`${parts}`;
}

/**
 * A change from a console form, sent on to the function that owns it: its gate checks the key's
 * role and writes the audit record, its rules (approvals, locks, freezes) apply as for the CLI.
 */
export async function sectionPost(
  request: HttpRequest,
  ctx: HandlerContext,
  c: Chrome,
  who: Who,
  path: string,
  fields: Record<string, string>,
): Promise<HttpResponse> {
  const routes: [
    RegExp,
    (m: RegExpExecArray) => { fn: string; path: string; body: unknown; back: string },
  ][] = [
    [
      /^\/releases\/approvals\/approve$/,
      () => ({
        fn: 'release',
        path: `/approvals/${encodeURIComponent(fields.approval ?? '')}/approve`,
        body: { token: fields.token ?? '' },
        back: '/releases',
      }),
    ],
    [
      /^\/releases\/([a-z][a-z0-9-]{0,62})\/(promote|rollback)$/,
      (m) => ({
        fn: 'release',
        path: `/targets/${m[1]}/${m[2]}`,
        body: {
          ...(fields.version ? { version: fields.version } : {}),
          ...(fields.tag ? { tag: fields.tag } : {}),
        },
        back:
          imageTargets(ctx.config).includes(m[1]!) && request.headers.referer?.includes('/images')
            ? '/images'
            : '/releases',
      }),
    ],
    [
      /^\/images\/([a-z][a-z0-9-]{0,62})\/build$/,
      (m) => ({
        fn: 'image-build',
        path: `/pipelines/${m[1]}/builds`,
        body: { commit: fields.commit ?? '' },
        back: '/images',
      }),
    ],
    [
      /^\/images\/prune$/,
      () => ({
        fn: 'image-prune',
        path: '/run',
        body: { dryRun: fields.dryRun !== 'false' },
        back: '/images',
      }),
    ],
    [
      /^\/terraform\/([a-z][a-z0-9-]{0,62})\/plan$/,
      (m) => ({
        fn: 'terraform',
        path: `/workspaces/${m[1]}/plans`,
        body: { commit: fields.commit ?? '' },
        back: '/terraform',
      }),
    ],
    [
      /^\/terraform\/([a-z][a-z0-9-]{0,62})\/plans\/([A-Za-z0-9_-]{1,80})\/(approve|reject|apply|discard)$/,
      (m) => ({
        fn: 'terraform',
        path: `/workspaces/${m[1]}/plans/${m[2]}/${m[3]}`,
        body: {},
        back: '/terraform',
      }),
    ],
    [
      /^\/environments\/([a-z][a-z0-9-]{0,62})\/(extend|destroy)$/,
      (m) => ({
        fn: 'terraform',
        path: `/environments/${m[1]}/${m[2]}`,
        body: m[2] === 'extend' ? { by: fields.by ?? '2h' } : {},
        back: '/environments',
      }),
    ],
    [
      /^\/backups\/([a-z][a-z0-9-]{0,62})\/run$/,
      (m) => ({
        fn: 'backup-rotate',
        path: `/policies/${m[1]}/run`,
        body: { dryRun: fields.dryRun !== 'false', drill: fields.drill === 'true' },
        back: '/backups',
      }),
    ],
    [
      /^\/scaling\/([a-z][a-z0-9-]{0,62})\/(set|freeze|unfreeze)$/,
      (m) => ({
        fn: 'scale',
        path: `/targets/${m[1]}/${m[2]}`,
        body:
          m[2] === 'set'
            ? { desired: Number(fields.desired), reason: fields.reason ?? '' }
            : m[2] === 'freeze'
              ? { reason: fields.reason ?? '' }
              : {},
        back: '/scaling',
      }),
    ],
  ];
  for (const [pattern, make] of routes) {
    const m = pattern.exec(path);
    if (!m) continue;
    const call = make(m);
    const answer = await callFunction(process.env, who.token, call.fn, 'POST', call.path, {
      body: call.body,
      ...(fields._once ? { idempotencyKey: `console:${who.keyId}:${fields._once}` } : {}),
      ...(request.sourceIp ? { source: request.sourceIp } : {}),
    });
    if (answer.status === 401 || answer.status === 403)
      return errorPage({ ...c, title: 'Forbidden' }, 403, `Refused: ${problem(answer)}.`);
    // The answer in full (a dry run's plan, the jobs queued, why it was refused). Reloading this
    // page sends the form again with the same idempotency key: the function answers it once.
    const ok = answer.status < 300;
    return page(
      ok ? 200 : answer.status,
      layout(
        { ...c, title: ok ? 'Done' : 'Not done', current: call.back },
        h`<p class="${ok ? 'notice' : 'error'}" data-test="${ok ? 'notice' : 'problem'}">${ok ? summary(answer) : problem(answer)}</p>
<div data-test="answer">${dl(answer.body)}</div><p><a href="${c.base}${call.back}">Back to ${call.back.slice(1)}</a></p>`,
      ),
    );
  }
  return errorPage(c, 404, `There is no action ${path}.`);
}

/** One line about what a change did, for the notice after it. */
function summary(answer: Answer): string {
  const b = answer.body as Record<string, unknown> | null;
  if (b && typeof b.message === 'string') return b.message;
  if (b && Array.isArray(b.jobs)) return `queued ${b.jobs.length} job(s); follow them under Runs`;
  if (b && b.dryRun === true) return 'a dry run: nothing was changed; this is what would be done';
  if (b && typeof b.status === 'string') return `done: ${b.status}`;
  return `done (HTTP ${answer.status})`;
}
