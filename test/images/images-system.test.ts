import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubHeaders, pushDelivery, pushPayloadFor } from '../../local/cli/git-push.ts';
import { signRequest } from '../../shared/auth/signing.ts';
import { giteeSignature } from '../../shared/events/git/verify.ts';
import type { ChannelEntry } from '../../shared/images/build-job.ts';
import { openStore } from '../../shared/store/open.ts';
import type { Store } from '../../shared/store/port.ts';
import { until } from '../helpers.ts';
import { type System, startSystem } from '../system.ts';
import { commitFiles, git } from './git-repo.ts';

const SECRET = 'test-git-webhook-secret';
const DAY = 86_400_000;
/** A repository made from the example, plus a template that does not validate. */
function makeRepo(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'images-')), 'repo');
  mkdirSync(dir, { recursive: true });
  cpSync(resolve(import.meta.dirname, '../../examples/images'), dir, { recursive: true });
  mkdirSync(join(dir, 'docs'), { recursive: true });
  writeFileSync(
    join(dir, 'docs/broken.json'),
    JSON.stringify({ builders: [{ type: 'file', target: 'x', content: 'x' }], nonsense: true }),
  );
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'first');
  return dir;
}

const commit = (dir: string, file: string, text: string) => commitFiles(dir, { [file]: text });

const config = (repo: string) => `region: cn-hangzhou
bucket: fc-devops-artifacts
notifications:
  channels:
    mail: { type: email, from: fc-devops@mail.example.com, to: [platform@example.com] }
  routes:
    - match: { kinds: ["image.**"] }
      channels: [mail]
      groupWindowSeconds: 0
images:
  channels:
    staging: {}
    prod: {}
  pipelines:
    web:
      repository: { url: ${repo}, host: local, webhookSecret: "\${env:T_GIT_SECRET}" }
      branches: [main]
      paths: ["packer/**"]
      template: packer/web.json
      family: web
      channel: staging
      import: { format: RAW }
      smokeTest: { instanceType: ecs.g7.large, vSwitchId: vsw-1, securityGroupId: sg-1, script: "curl -fsS localhost" }
    smoky:
      repository: { url: ${repo}, host: local, webhookSecret: "\${env:T_GIT_SECRET}" }
      paths: ["smoke/**"]
      template: packer/web.json
      import: { format: RAW }
      smokeTest: { instanceType: ecs.g7.large, vSwitchId: vsw-1, securityGroupId: sg-1, script: "test -f /missing || exit 3" }
    docs:
      repository: { url: ${repo}, host: local, webhookSecret: "\${env:T_GIT_SECRET}" }
      branches: [main]
      paths: ["docs/**"]
      template: docs/broken.json
  prune: { keep: 1, minAgeDays: 7, protectHistory: 2, deleteSnapshots: true, dryRun: false }
access:
  keys:
    ops: { secret: "\${env:T_OPS}", roles: [{ targets: ["*"], actions: [run] }] }
`;

describe('git push to machine image, through the running system', () => {
  let system: System;
  let store: Store;
  let repo: string;
  let builtSha = '';
  const webhook = (body: string | Buffer, headers: Record<string, string>) =>
    fetch(`${system.runtime.url}/git-webhook/`, { method: 'POST', headers, body });
  const push = async (delivery?: string) => {
    const body = JSON.stringify(pushPayloadFor(repo));
    const response = await webhook(body, githubHeaders(body, SECRET, delivery));
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const invocations = (fn: string) =>
    system.sandbox.calls.filter(
      (c) => c.action === 'InvokeFunction' && JSON.stringify(c).includes(`/functions/${fn}/`),
    ).length;
  const buildRuns = async () => (await store.listRuns({ kind: 'image.build', limit: 50 })).runs;
  const finished = async (subject: string) =>
    until(async () => {
      const run = (await buildRuns()).find((r) => r.subject === subject && r.status !== 'running');
      return run;
    }, 90_000);

  beforeAll(async () => {
    repo = makeRepo();
    system = await startSystem({
      config: config(repo),
      timeScale: 600,
      env: () => ({ T_GIT_SECRET: SECRET, T_OPS: 'ops-secret' }),
      seed: {
        ecs: {
          images: [
            {
              id: 'm-old-channel',
              name: 'web-a',
              family: 'web',
              ageDays: 90,
              tags: { 'fc-devops:pipeline': 'web' },
            },
            {
              id: 'm-old-history',
              name: 'web-b',
              family: 'web',
              ageDays: 80,
              tags: { 'fc-devops:pipeline': 'web' },
            },
            {
              id: 'm-old-scaling',
              name: 'web-c',
              family: 'web',
              ageDays: 70,
              tags: { 'fc-devops:pipeline': 'web' },
            },
            {
              id: 'm-old-template',
              name: 'web-d',
              family: 'web',
              ageDays: 60,
              tags: { 'fc-devops:pipeline': 'web' },
            },
            {
              id: 'm-old-instance',
              name: 'web-e',
              family: 'web',
              ageDays: 50,
              tags: { 'fc-devops:pipeline': 'web' },
            },
            {
              id: 'm-old-unused',
              name: 'web-f',
              family: 'web',
              ageDays: 40,
              tags: { 'fc-devops:pipeline': 'web' },
            },
            {
              id: 'm-young',
              name: 'web-g',
              family: 'web',
              ageDays: 3,
              tags: { 'fc-devops:pipeline': 'web' },
            },
            { id: 'm-foreign', name: 'other', family: 'other', ageDays: 400 },
          ],
          instances: [{ id: 'i-running', imageId: 'm-old-instance' }],
          launchTemplates: [{ id: 'lt-web', imageIds: ['m-old-template'] }],
        },
        ess: {
          groups: [
            {
              id: 'asg-web',
              name: 'web',
              min: 1,
              max: 4,
              desired: 1,
              configurationId: 'asc-web',
              imageId: 'm-old-scaling',
            },
          ],
        },
        // Copies of the pipeline's images in another region, with a scaling group of its own there.
        regions: {
          'cn-shanghai': {
            ecs: {
              images: [
                {
                  id: 'm-sh-new',
                  name: 'web-sh-a',
                  family: 'web',
                  ageDays: 10,
                  tags: { 'fc-devops:pipeline': 'web' },
                },
                {
                  id: 'm-sh-unused',
                  name: 'web-sh-b',
                  family: 'web',
                  ageDays: 40,
                  tags: { 'fc-devops:pipeline': 'web' },
                },
                {
                  id: 'm-sh-scaling',
                  name: 'web-sh-c',
                  family: 'web',
                  ageDays: 45,
                  tags: { 'fc-devops:pipeline': 'web' },
                },
                {
                  id: 'm-sh-channel',
                  name: 'web-sh-d',
                  family: 'web',
                  ageDays: 50,
                  tags: { 'fc-devops:pipeline': 'web' },
                },
              ],
            },
            ess: {
              groups: [
                {
                  id: 'asg-sh',
                  name: 'web-sh',
                  min: 1,
                  max: 4,
                  desired: 1,
                  configurationId: 'asc-sh',
                  imageId: 'm-sh-scaling',
                },
              ],
            },
          },
        },
      },
    });
    store = await openStore({ databaseUrl: system.runtime.databaseUrl });
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await system?.stop();
  });

  it('refuses unsigned, wrongly signed, unknown and oversized deliveries, enqueuing nothing', async () => {
    const before = invocations('image-build');
    const body = JSON.stringify(pushPayloadFor(repo));
    const signed = githubHeaders(body, SECRET);
    const { 'x-hub-signature-256': _sig, ...unsigned } = signed;
    const r1 = await webhook(body, unsigned);
    expect(r1.status).toBe(401);
    expect(await r1.json()).toEqual({ error: 'Unauthenticated', message: 'X-Hub-Signature-256 is missing' });
    const r2 = await webhook(body, githubHeaders(body, 'not-the-secret'));
    expect(r2.status).toBe(401);
    const r3 = await webhook(`${body} `, signed);
    expect(r3.status).toBe(401);
    const r4 = await webhook(body, { 'content-type': 'application/json' });
    expect(r4.status).toBe(400);
    expect(((await r4.json()) as { message: string }).message).toMatch(/^unknown git host/);
    const r5 = await webhook(body, { ...signed, 'x-github-event': 'issues' });
    expect(r5.status).toBe(400);
    expect(((await r5.json()) as { message: string }).message).toBe(
      'unsupported GitHub event "issues" (handled: push, ping)',
    );
    // A body that is not a push: 401 to strangers, the bad fields to a sender holding the secret.
    const junk = '{"ref": 42}';
    expect((await webhook(junk, { 'x-github-event': 'push' })).status).toBe(401);
    const bad = await webhook(junk, githubHeaders(junk, SECRET));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(['body.ref', 'body.before', 'body.repository']),
    );
    const big = Buffer.alloc(25 * 1024 * 1024 + 1, 32);
    const r6 = await webhook(big, githubHeaders(big.toString(), SECRET));
    expect(r6.status).toBe(413);
    // Gitee with a timestamp signature from two hours ago.
    const old = String(Date.now() - 2 * 3600_000);
    const r7 = await webhook(body, {
      'x-gitee-event': 'Push Hook',
      'x-gitee-token': giteeSignature(SECRET, old),
      'x-gitee-timestamp': old,
    });
    expect(r7.status).toBe(401);
    expect(await r7.json()).toMatchObject({
      message: 'X-Gitee-Timestamp is more than an hour away from now',
    });
    const ping = await webhook('{"zen":"Keep it logically awesome."}', {
      ...githubHeaders('{"zen":"Keep it logically awesome."}', SECRET),
      'x-github-event': 'ping',
    });
    expect(ping.status).toBe(200);
    expect(await ping.json()).toMatchObject({ pong: true, host: 'github' });
    expect(invocations('image-build')).toBe(before);
  });

  it('builds exactly once for a delivery sent three times: webhook -> packer -> image -> channel -> notify', async () => {
    const sha = commit(repo, 'packer/scripts/setup.sh', 'echo hello\n');
    builtSha = sha;
    const first = await push('delivery-one');
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({
      commit: sha,
      jobs: [{ pipeline: 'web' }],
      skipped: [
        { pipeline: 'smoky', reason: 'no changed path matches smoke/**' },
        { pipeline: 'docs', reason: 'no changed path matches docs/**' },
      ],
    });
    const again = await push('delivery-one');
    const third = await push('delivery-one');
    expect([again.status, third.status]).toEqual([200, 200]);
    expect(again.body).toMatchObject({ duplicate: true, commit: sha });
    // Another delivery of the same commit (a second webhook, a manual redelivery) enqueues but does not rebuild.
    expect((await push('delivery-two')).status).toBe(202);

    const run = await finished(`web@${sha.slice(0, 12)}`);
    expect(run.status).toBe('succeeded');
    await until(() => invocations('image-build') >= 2 || undefined);
    await until(() => system.runtime.queue.list().length === 0 || undefined, 60_000);
    const imports = system.sandbox.calls.filter((c) => c.action === 'ImportImage' && c.status === 200);
    expect(imports).toHaveLength(1);
    expect((await buildRuns()).filter((r) => r.subject === `web@${sha.slice(0, 12)}`)).toHaveLength(1);

    const channel = await store.readHistory<ChannelEntry>('channel:staging', { limit: 1 });
    const imageId = channel[0]!.value.images['cn-hangzhou']!;
    expect(channel[0]!.value).toMatchObject({ pipeline: 'web', commit: sha, runId: run.id });
    const image = system.sandbox.state.ecs.images[imageId]!;
    expect(image.tags).toMatchObject({
      'fc-devops:commit': sha,
      'fc-devops:pipeline': 'web',
      'fc-devops:run-id': run.id,
    });
    expect(image.family).toBe('web');

    // The smoke test ran on the image, with a safety-net release time, and its instance is gone.
    const started = system.sandbox.calls.find((c) => c.action === 'RunInstances' && c.status === 200)!;
    expect(JSON.stringify(started)).toContain(imageId);
    expect(Object.values(system.sandbox.state.ecs.instances).map((i) => i.imageId)).not.toContain(imageId);

    // The disk image file is kept in the bucket and recorded with the run.
    const [file] = (run.result as { files: { bucket: string; key: string; bytes: number; sha256: string }[] })
      .files;
    expect(file).toMatchObject({
      bucket: 'fc-devops-artifacts',
      key: `artifacts/web/${sha}/web-disk/output/web.raw`,
    });
    const stored = readFileSync(join(system.dir, 'state', 'oss', file!.bucket, file!.key));
    expect(stored.toString()).toContain(`commit ${sha} on main`);
    expect(file!.bytes).toBe(stored.length);
    expect(file!.sha256).toBe(createHash('sha256').update(stored).digest('hex'));

    const log = await store.readRunLog(run.id);
    expect(log).toContain('$ packer build -machine-readable');
    expect(log).toContain(`provisioning web at ${sha}`);
    expect(log).toContain(`channel staging now holds ${imageId}`);

    const mails = await until(() => {
      const m = system.sandbox.mails.filter((x) => JSON.stringify(x).includes(sha.slice(0, 12)));
      return m.some((x) => /Image built/.test(x.subject)) ? m : undefined;
    }, 30_000);
    expect(mails.map((m) => m.subject).join('\n')).toMatch(/started/i);
    expect(JSON.stringify(mails.find((m) => /Image built/.test(m.subject)))).toContain(imageId);
  }, 150_000);

  it("path filters pick the pipeline; a template that does not validate fails the run with packer's message", async () => {
    const sha = commit(repo, 'docs/readme.md', 'docs only\n');
    const r = await push();
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({
      jobs: [{ pipeline: 'docs' }],
      skipped: [
        { pipeline: 'web', reason: 'no changed path matches packer/**' },
        { pipeline: 'smoky', reason: 'no changed path matches smoke/**' },
      ],
    });
    const run = await finished(`docs@${sha.slice(0, 12)}`);
    expect(run.status).toBe('failed');
    expect(JSON.stringify(run.error)).toContain("Unknown root level key in template: 'nonsense'");
    const mail = await until(() =>
      system.sandbox.mails.find(
        (m) => /failed/i.test(m.subject) && JSON.stringify(m).includes(sha.slice(0, 12)),
      ),
    );
    expect(mail.text).toContain('the template does not validate');
    expect(mail.text).toContain('nonsense');
  }, 120_000);

  it("takes each host's push (signed or tokened its own way) and builds the commit once", async () => {
    const sha = commit(repo, 'packer/hosts.txt', 'every host\n');
    const accepted: Record<string, unknown> = {};
    for (const host of ['gitlab', 'codeup', 'gitee', 'github'] as const) {
      const { body, headers } = pushDelivery(repo, host, SECRET);
      const r = await webhook(body, headers);
      expect(r.status, host).toBe(202);
      accepted[host] = ((await r.json()) as { jobs: { pipeline: string }[] }).jobs.map((j) => j.pipeline);
      const forged = pushDelivery(repo, host, 'wrong-secret');
      expect((await webhook(forged.body, forged.headers)).status, host).toBe(401);
    }
    // GitHub's default content type: the JSON URL-encoded in a form's payload field, signed as sent.
    const form = pushDelivery(repo, 'github', SECRET, undefined, new Date(), { form: true });
    expect(form.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const formed = await webhook(form.body, form.headers);
    expect(formed.status).toBe(202);
    accepted['github-form'] = ((await formed.json()) as { jobs: { pipeline: string }[] }).jobs.map(
      (j) => j.pipeline,
    );
    const forgedForm = pushDelivery(repo, 'github', 'wrong-secret', undefined, new Date(), { form: true });
    expect((await webhook(forgedForm.body, forgedForm.headers)).status).toBe(401);
    // Codeup sends no file lists: every pipeline of the repository is enqueued and the build diffs.
    expect(accepted).toEqual({
      gitlab: ['web'],
      codeup: ['web', 'smoky', 'docs'],
      gitee: ['web'],
      github: ['web'],
      'github-form': ['web'],
    });
    const run = await finished(`web@${sha.slice(0, 12)}`);
    expect(run.status).toBe('succeeded');
    for (const p of ['smoky', 'docs'])
      expect((await finished(`${p}@${sha.slice(0, 12)}`)).result).toMatchObject({ status: 'skipped' });
    // Every enqueued job has run: a second build of the commit would be among them.
    await until(() => system.runtime.queue.list().length === 0 || undefined, 60_000);
    expect((await buildRuns()).filter((r) => r.subject === `web@${sha.slice(0, 12)}`)).toHaveLength(1);
  }, 120_000);

  it('diffs a GitLab push that lists only some commits, and skips pipelines whose paths did not change', async () => {
    const before = git(repo, 'rev-parse', 'HEAD');
    commit(repo, 'notes/one.md', '1\n');
    const sha = commit(repo, 'notes/two.md', '2\n');
    const body = JSON.stringify({
      object_kind: 'push',
      before,
      after: sha,
      ref: 'refs/heads/main',
      project: { path_with_namespace: 'local/repo', git_http_url: repo },
      commits: [
        { id: sha, message: 'change notes/two.md', added: ['notes/two.md'], modified: [], removed: [] },
      ],
      total_commits_count: 2,
    });
    const r = await webhook(body, {
      'x-gitlab-event': 'Push Hook',
      'x-gitlab-token': SECRET,
      'idempotency-key': sha,
    });
    expect(r.status).toBe(202);
    expect(((await r.json()) as { jobs: { pipeline: string }[] }).jobs.map((j) => j.pipeline)).toEqual([
      'web',
      'smoky',
      'docs',
    ]);
    for (const p of ['web', 'smoky', 'docs']) {
      const run = await finished(`${p}@${sha.slice(0, 12)}`);
      expect(run.status).toBe('succeeded');
      expect(run.result).toMatchObject({
        status: 'skipped',
        reason: expect.stringMatching(/^no changed path matches/),
      });
    }
    const wrong = await webhook(body, { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'guess' });
    expect(wrong.status).toBe(401);
  }, 120_000);

  it('fails the build when the smoke test fails, and deletes the test instance all the same', async () => {
    const sha = commit(repo, 'smoke/trigger.txt', 'go\n');
    expect((await push()).body).toMatchObject({ jobs: [{ pipeline: 'smoky' }] });
    const run = await finished(`smoky@${sha.slice(0, 12)}`);
    expect(run.status).toBe('failed');
    expect(JSON.stringify(run.error)).toMatch(
      /smoke test of m-\w+ failed: the test script ended Failed with exit code 3/,
    );
    const imageId = /smoke test of (m-\w+)/.exec(JSON.stringify(run.error))![1]!;
    expect(Object.values(system.sandbox.state.ecs.instances).map((i) => i.imageId)).not.toContain(imageId);
    expect(system.sandbox.calls.some((c) => c.action === 'DeleteInstance' && c.status === 200)).toBe(true);
    expect(await store.readHistory('channel:prod', { limit: 5 })).toEqual([]);
  }, 120_000);

  it('rebuilds a commit on an authenticated request, and refuses an unsigned one', async () => {
    const sha = builtSha;
    const imports = () =>
      system.sandbox.calls.filter((c) => c.action === 'ImportImage' && c.status === 200).length;
    const importsBefore = imports();
    const body = JSON.stringify({ commit: sha, ref: 'refs/heads/main' });
    const unsigned = await fetch(`${system.runtime.url}/image-build/pipelines/web/builds`, {
      method: 'POST',
      body,
    });
    expect(unsigned.status).toBe(401);
    const headers = signRequest({
      method: 'POST',
      path: '/pipelines/web/builds',
      body,
      keyId: 'ops',
      secret: 'ops-secret',
    });
    const r = await fetch(`${system.runtime.url}/image-build/pipelines/web/builds`, {
      method: 'POST',
      headers,
      body,
    });
    expect(r.status).toBe(202);
    await until(
      async () =>
        (await buildRuns()).filter((x) => x.subject === `web@${sha.slice(0, 12)}` && x.status === 'succeeded')
          .length === 2 || undefined,
      90_000,
    );
    expect(imports()).toBe(importsBefore + 1);
  }, 120_000);

  it('prunes old images but refuses every kind of in-use image, and reports why', async () => {
    const dryBody = JSON.stringify({ dryRun: true });
    const dry = await fetch(`${system.runtime.url}/image-prune/run`, {
      method: 'POST',
      headers: signRequest({
        method: 'POST',
        path: '/run',
        body: dryBody,
        keyId: 'ops',
        secret: 'ops-secret',
      }),
      body: dryBody,
    });
    expect(dry.status).toBe(200);
    const plan = (await dry.json()) as { dryRun: boolean; deleted: { id: string }[] };
    expect(plan.dryRun).toBe(true);
    expect(plan.deleted.map((d) => d.id)).toContain('m-old-channel');
    expect(system.sandbox.state.ecs.images['m-old-channel']).toBeDefined();
    expect(system.sandbox.calls.some((c) => c.action === 'DeleteImage')).toBe(false);

    await store.appendHistory('channel:prod', { value: { images: { 'cn-hangzhou': 'm-old-history' } } });
    await store.appendHistory('channel:prod', { value: { images: { 'cn-hangzhou': 'm-old-channel' } } });
    // Just after the default schedule (03:00 UTC) of a day to come.
    const triggerTime = `${new Date(Date.now() + DAY).toISOString().slice(0, 10)}T03:00:30Z`;
    const prune = () =>
      fetch(`${system.runtime.url}/2023-03-30/functions/image-prune/invocations`, {
        method: 'POST',
        body: JSON.stringify({ triggerTime, triggerName: 'schedule', payload: '' }),
      });
    // The first attempt fails (every listing of images errs): nothing is deleted, and the firing stays due.
    system.sandbox.faults.set('DescribeImages', { failNext: 5, failWith: 'error' });
    const failed = await prune();
    system.sandbox.faults.clear();
    expect(failed.headers.get('x-fc-error-type')).toBeTruthy();
    expect(system.sandbox.calls.some((c) => c.action === 'DeleteImage')).toBe(false);
    // FC's retry of the same tick prunes.
    const report = JSON.parse(await (await prune()).text());
    const ids = (list: { id: string }[]) => list.map((d) => d.id).sort();
    const built = Object.values(system.sandbox.state.ecs.images).filter(
      (i) => i.tags['fc-devops:pipeline'] === 'web' && i.id.startsWith('m-sbx'),
    );
    expect(ids(report.deleted)).toEqual(['m-old-unused']);
    const kept = Object.fromEntries(
      report.kept.map((d: { id: string; reasons: string[] }) => [d.id, d.reasons]),
    );
    expect(kept['m-old-channel']).toEqual(['on channel prod']);
    expect(kept['m-old-history']).toEqual(['in the recent history of channel prod']);
    expect(kept['m-old-scaling']).toEqual(['in scaling configuration asc-web (asg-web)']);
    expect(kept['m-old-template']).toEqual(['in launch template lt-web v1']);
    expect(kept['m-old-instance']).toEqual(['used by instance i-running']);
    expect(kept['m-young']).toContain('younger than 7 days');
    expect(built.length).toBeGreaterThan(0);
    expect(kept).not.toHaveProperty('m-foreign');
    expect(system.sandbox.state.ecs.images['m-old-unused']).toBeUndefined();
    expect(system.sandbox.state.ecs.images['m-foreign']).toBeDefined();
    expect(report.snapshotsDeleted).toEqual(['s-old-unused']);
    const mail = await until(() => system.sandbox.mails.find((m) => /Image prune/.test(m.subject)));
    expect(mail.text).toContain('m-old-unused');
  }, 60_000);

  it('prunes every region the channels name, each by what is in use there, and leaves a region it cannot list alone', async () => {
    const run = async () => {
      const body = JSON.stringify({ dryRun: false });
      const r = await fetch(`${system.runtime.url}/image-prune/run`, {
        method: 'POST',
        headers: signRequest({ method: 'POST', path: '/run', body, keyId: 'ops', secret: 'ops-secret' }),
        body,
      });
      expect(r.status).toBe(200);
      return (await r.json()) as {
        deleted: { id: string; region: string }[];
        kept: { id: string; region: string; reasons: string[] }[];
        regions: { region: string; pruned: boolean; error?: string }[];
      };
    };
    const shanghai = () => Object.keys(system.sandbox.stateIn('cn-shanghai').ecs.images).sort();
    // A build's copy went on the channel: the channel now names cn-shanghai too.
    await store.appendHistory('channel:prod', {
      value: { images: { 'cn-hangzhou': 'm-old-channel', 'cn-shanghai': 'm-sh-channel' } },
    });
    // With cn-shanghai down, cn-hangzhou is pruned and cn-shanghai is left alone, and says why.
    system.sandbox.faults.setRegion('cn-shanghai', true);
    const partial = await run();
    system.sandbox.faults.clear();
    expect(partial.regions).toMatchObject([
      { region: 'cn-hangzhou', pruned: true },
      { region: 'cn-shanghai', pruned: false, error: expect.stringContaining('ServiceUnavailable') },
    ]);
    expect(shanghai()).toEqual(['m-sh-channel', 'm-sh-new', 'm-sh-scaling', 'm-sh-unused']);

    const report = await run();
    expect(report.regions).toMatchObject([
      { region: 'cn-hangzhou', pruned: true },
      { region: 'cn-shanghai', pruned: true },
    ]);
    expect(report.deleted).toMatchObject([{ id: 'm-sh-unused', region: 'cn-shanghai' }]);
    const kept = Object.fromEntries(
      report.kept.filter((d) => d.region === 'cn-shanghai').map((d) => [d.id, d.reasons]),
    );
    expect(kept['m-sh-channel']).toEqual(['on channel prod']);
    expect(kept['m-sh-scaling']).toEqual(['in scaling configuration asc-sh (asg-sh)']);
    expect(kept['m-sh-new']).toEqual(expect.arrayContaining([expect.stringContaining('newest')]));
    expect(shanghai()).toEqual(['m-sh-channel', 'm-sh-new', 'm-sh-scaling']);
    // cn-hangzhou's images are where the first prune left them.
    expect(system.sandbox.state.ecs.images['m-old-scaling']).toBeDefined();
    expect(system.sandbox.state.ecs.images['m-sh-unused']).toBeUndefined();
  }, 60_000);
});
