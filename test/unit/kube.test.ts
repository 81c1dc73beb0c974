import { describe, expect, it } from 'vitest';
import { applyPatch, type PatchError } from '../../local/sandbox/kube/patch.ts';
import { parseKubeconfig } from '../../shared/kube/kubeconfig.ts';
import {
  isImageRef,
  repositoryOf,
  revisions,
  rolloutStatus,
  setImage,
  undo,
} from '../../shared/kube/rollout.ts';
import type { Deployment, ReplicaSet } from '../../shared/kube/types.ts';

const UID = 'd-uid';
const template = (image: string, extra: Record<string, string> = {}) => ({
  metadata: { labels: { app: 'web', ...extra } },
  spec: {
    containers: [
      { name: 'web', image },
      { name: 'proxy', image: 'nginx:1' },
    ],
  },
});

function deployment(
  over: Partial<Deployment['status']> = {},
  meta: Partial<Deployment['metadata']> = {},
): Deployment {
  return {
    metadata: {
      name: 'web',
      namespace: 'shop',
      uid: UID,
      generation: 4,
      annotations: {
        'deployment.kubernetes.io/revision': '3',
        'kubernetes.io/change-cause': 'third',
        'kubectl.kubernetes.io/last-applied-configuration': '{}',
      },
      ...meta,
    },
    spec: { replicas: 4, selector: { matchLabels: { app: 'web' } }, template: template('web:3') },
    status: { observedGeneration: 4, replicas: 4, updatedReplicas: 4, availableReplicas: 4, ...over },
  };
}

const rs = (revision: number, image: string, cause?: string, owner = UID): ReplicaSet => ({
  metadata: {
    name: `web-${revision}`,
    namespace: 'shop',
    uid: `rs-${revision}`,
    annotations: {
      'deployment.kubernetes.io/revision': String(revision),
      'deployment.kubernetes.io/desired-replicas': '4',
      ...(cause ? { 'kubernetes.io/change-cause': cause } : {}),
    },
    ownerReferences: [{ uid: owner, controller: true, kind: 'Deployment', name: 'web' }],
  },
  spec: { template: template(image, { 'pod-template-hash': `h${revision}` }) },
});

describe('rolloutStatus: what kubectl rollout status concludes', () => {
  it('waits until the controller observed the generation, whatever the counts say', () => {
    expect(rolloutStatus(deployment({ observedGeneration: 3 }))).toEqual({
      state: 'waiting',
      message: 'Waiting for deployment spec update to be observed...',
    });
  });
  it('fails on ProgressDeadlineExceeded before looking at counts', () => {
    const d = deployment({
      updatedReplicas: 1,
      conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
    });
    expect(rolloutStatus(d)).toEqual({
      state: 'failed',
      message: 'deployment "web" exceeded its progress deadline',
    });
  });
  it.each([
    [
      { updatedReplicas: 2 },
      'Waiting for deployment "web" rollout to finish: 2 out of 4 new replicas have been updated...',
    ],
    [
      { replicas: 5 },
      'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...',
    ],
    [
      { availableReplicas: 0 },
      'Waiting for deployment "web" rollout to finish: 0 of 4 updated replicas are available...',
    ],
  ])('waits for %o', (status, message) => {
    expect(rolloutStatus(deployment(status))).toEqual({ state: 'waiting', message });
  });
  it('is complete when every replica is updated and available and no old one remains', () => {
    expect(rolloutStatus(deployment())).toEqual({
      state: 'complete',
      message: 'deployment "web" successfully rolled out',
    });
  });
});

describe('undo: kubectl rollout undo', () => {
  const sets = [
    rs(1, 'web:1', 'first'),
    rs(2, 'web:2'),
    rs(3, 'web:3', 'third'),
    rs(9, 'web:9', 'other', 'someone-else'),
  ];

  it('goes to the revision before the current one, with its template and its annotations', () => {
    const u = undo(deployment(), sets);
    expect(u).toMatchObject({ kind: 'patch', revision: 2, images: { web: 'web:2', proxy: 'nginx:1' } });
    if (u.kind !== 'patch') throw new Error('no patch');
    expect(u.patch).toEqual([
      // The pod-template-hash label is gone; the rest of the template is the ReplicaSet's.
      { op: 'replace', path: '/spec/template', value: template('web:2') },
      {
        op: 'add',
        path: '/metadata/annotations',
        // The Deployment keeps its own revision and last-applied annotations; revision 2 had no change cause.
        value: {
          'deployment.kubernetes.io/revision': '3',
          'kubectl.kubernetes.io/last-applied-configuration': '{}',
        },
      },
    ]);
  });
  it('goes to a named revision and takes its change cause', () => {
    const u = undo(deployment(), sets, 1);
    if (u.kind !== 'patch') throw new Error('no patch');
    expect(u.revision).toBe(1);
    expect((u.patch[1] as { value: Record<string, string> }).value['kubernetes.io/change-cause']).toBe(
      'first',
    );
  });
  it('says what kubectl says when there is nothing to go to', () => {
    expect(undo(deployment(), sets, 7)).toEqual({
      kind: 'none',
      message: 'unable to find specified revision 7 in history',
    });
    expect(undo(deployment(), [rs(3, 'web:3')])).toEqual({
      kind: 'none',
      message: 'no rollout history found',
    });
    expect(undo(deployment(), sets, 3)).toEqual({
      kind: 'none',
      message: 'skipped rollback (current template already matches revision 3)',
    });
    // ReplicaSets another Deployment controls are not history.
    expect(undo(deployment(), sets, 9)).toMatchObject({ kind: 'none' });
  });
  it('resumes a paused Deployment in the same patch', () => {
    const d = deployment();
    d.spec.paused = true;
    const u = undo(d, sets);
    expect(u.kind === 'patch' && u.patch.at(-1)).toEqual({
      op: 'replace',
      path: '/spec/paused',
      value: false,
    });
  });
  it('lists revisions oldest first with images and change causes, and marks the current one', () => {
    expect(
      revisions(deployment(), sets).map((r) => [r.revision, r.images.web, r.changeCause, r.current]),
    ).toEqual([
      [1, 'web:1', 'first', false],
      [2, 'web:2', null, false],
      [3, 'web:3', 'third', true],
    ]);
  });
});

describe('setImage: kubectl set image for one container', () => {
  it('tests the container name at its index, sets the image and the change cause', () => {
    expect(setImage(deployment(), 'proxy', 'nginx:2', 'why')).toEqual({
      kind: 'patch',
      from: 'nginx:1',
      patch: [
        { op: 'test', path: '/spec/template/spec/containers/1/name', value: 'proxy' },
        { op: 'replace', path: '/spec/template/spec/containers/1/image', value: 'nginx:2' },
        { op: 'add', path: '/metadata/annotations/kubernetes.io~1change-cause', value: 'why' },
      ],
    });
  });
  it('lists the containers when the one named is not there, and sees an unchanged image', () => {
    expect(setImage(deployment(), 'nginx', 'nginx:2', 'why')).toEqual({
      kind: 'no-container',
      containers: ['web', 'proxy'],
    });
    expect(setImage(deployment(), 'web', 'web:3', 'why')).toEqual({ kind: 'unchanged' });
  });
});

describe('image references', () => {
  it.each([
    'nginx',
    'nginx:1.27',
    'registry.cn-hangzhou.aliyuncs.com/shop/web:1.2.0',
    'localhost:5000/a/b-c__d:v1',
    `web@sha256:${'a'.repeat(64)}`,
  ])('accepts %s', (ref) => expect(isImageRef(ref)).toBe(true));
  it.each(['', 'Nginx', 'web:', 'web:-x', 'a b', 'web@sha256:abc', `web:${'x'.repeat(129)}`, 'web;rm -rf'])(
    'refuses %j',
    (ref) => expect(isImageRef(ref)).toBe(false),
  );
  it('finds the repository behind a tag or digest, not a registry port', () => {
    expect(repositoryOf('localhost:5000/shop/web:1.2')).toBe('localhost:5000/shop/web');
    expect(repositoryOf(`web@sha256:${'b'.repeat(64)}`)).toBe('web');
    expect(repositoryOf('localhost:5000/shop/web')).toBe('localhost:5000/shop/web');
  });
});

describe('kubeconfig', () => {
  const config = (user: string, cluster = 'server: https://10.0.0.1:6443') => `apiVersion: v1
kind: Config
current-context: me
contexts: [{ name: me, context: { cluster: k, user: u } }]
clusters: [{ name: k, cluster: { ${cluster} } }]
users: [{ name: u, user: { ${user} } }]
`;
  it('reads the current context: server, CA, client certificate or token', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    expect(
      parseKubeconfig(
        config(
          `client-certificate-data: ${b64('CERT')}, client-key-data: ${b64('KEY')}`,
          `server: "https://10.0.0.1:6443/", certificate-authority-data: ${b64('CA')}`,
        ),
      ),
    ).toEqual({ server: 'https://10.0.0.1:6443', ca: 'CA', cert: 'CERT', key: 'KEY', user: 'u' });
    expect(parseKubeconfig(config('token: abc'))).toEqual({
      server: 'https://10.0.0.1:6443',
      token: 'abc',
      user: 'u',
    });
  });
  it.each([
    ['', /empty/],
    ['{{', /not valid YAML/],
    [config('token: abc').replace('current-context: me', 'current-context: other'), /no context named other/],
    [config('exec: { command: aliyun }'), /uses exec/],
    [config('client-certificate: /home/me/cert'), /uses client-certificate/],
    [config('username: admin'), /neither a client certificate nor a token/],
    [config('token: abc', 'server: ftp://x'), /not an http\(s\) URL/],
  ])('refuses a kubeconfig that %#: %s', (text, message) => {
    expect(() => parseKubeconfig(text)).toThrow(message);
  });
});

describe('sandbox API server patches', () => {
  const doc = {
    spec: {
      paused: false,
      template: {
        spec: {
          containers: [
            { name: 'a', image: 'x' },
            { name: 'b', image: 'y' },
          ],
        },
      },
    },
  };
  it('applies JSON patch, merge patch and strategic merge patch (containers by name)', () => {
    expect(
      applyPatch(
        doc,
        'application/json-patch+json',
        JSON.stringify([{ op: 'replace', path: '/spec/template/spec/containers/1/image', value: 'z' }]),
      ),
    ).toMatchObject({ spec: { template: { spec: { containers: [{ image: 'x' }, { image: 'z' }] } } } });
    expect(applyPatch(doc, 'application/merge-patch+json', '{"spec":{"paused":true}}')).toMatchObject({
      spec: { paused: true },
    });
    expect(
      applyPatch(
        doc,
        'application/strategic-merge-patch+json',
        '{"spec":{"template":{"spec":{"containers":[{"name":"b","image":"q"}]}}}}',
      ),
    ).toMatchObject({
      spec: {
        template: {
          spec: {
            containers: [
              { name: 'a', image: 'x' },
              { name: 'b', image: 'q' },
            ],
          },
        },
      },
    });
    // The original is untouched.
    expect(doc.spec.template.spec.containers[1]!.image).toBe('y');
  });
  it('fails a test op, a missing path or an unknown type with the status the API server answers', () => {
    const fails = (type: string, body: string) => {
      try {
        applyPatch(doc, type, body);
      } catch (e) {
        return (e as PatchError).status;
      }
      return 'applied';
    };
    expect(fails('application/json-patch+json', '[{"op":"test","path":"/spec/paused","value":true}]')).toBe(
      422,
    );
    expect(
      fails('application/json-patch+json', '[{"op":"replace","path":"/spec/nothing/here","value":1}]'),
    ).toBe(422);
    expect(fails('application/json-patch+json', '{"op":"replace"}')).toBe(400);
    expect(fails('text/plain', '{}')).toBe(415);
    expect(fails('application/merge-patch+json', '{')).toBe(400);
  });
});
