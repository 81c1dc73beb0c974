// The Kubernetes API paths a sandbox cluster serves: discovery, Namespaces, and apps/v1
// Deployments and ReplicaSets (get, list, watch, patch), with RBAC per namespace.
import { canonicalJson as canonical } from '../../../shared/util/compare.ts';
import { materialize, rollOut, setPaused, withDefaults } from './controller.ts';
import {
  type Deployment,
  type KubeCluster,
  type KubeState,
  key,
  type Labels,
  type ReplicaSet,
} from './objects.ts';
import { applyPatch, PatchError } from './patch.ts';

export interface KubeRequest {
  method: string;
  /** The path below the cluster's prefix. */
  path: string;
  query: URLSearchParams;
  contentType: string;
  body: string;
  user: string;
}

export type Resource = 'deployments' | 'replicasets';

export interface WatchSpec {
  resource: Resource;
  namespace: string;
  fieldName: string | undefined;
  labels: Labels;
  resourceVersion: string;
  timeoutSeconds: number;
  initialEvents: boolean;
  bookmarks: boolean;
}

export type KubeAnswer = { status: number; body: unknown } | { watch: WatchSpec };

export const VERSION = {
  major: '1',
  minor: '31',
  gitVersion: 'v1.31.1-aliyun.1',
  gitCommit: 'sandbox',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.22.5',
  compiler: 'gc',
  platform: 'linux/amd64',
};

const verbs = ['get', 'list', 'watch', 'patch'];
const DISCOVERY: Record<string, unknown> = {
  '/api': { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] },
  '/apis': {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [
      {
        name: 'apps',
        versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
        preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
      },
    ],
  },
  '/api/v1': {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [
      {
        name: 'namespaces',
        singularName: 'namespace',
        namespaced: false,
        kind: 'Namespace',
        verbs: ['get', 'list'],
        shortNames: ['ns'],
      },
    ],
  },
  '/apis/apps/v1': {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'apps/v1',
    resources: [
      {
        name: 'deployments',
        singularName: 'deployment',
        namespaced: true,
        kind: 'Deployment',
        verbs,
        shortNames: ['deploy'],
        categories: ['all'],
      },
      {
        name: 'replicasets',
        singularName: 'replicaset',
        namespaced: true,
        kind: 'ReplicaSet',
        verbs: ['get', 'list', 'watch'],
        shortNames: ['rs'],
        categories: ['all'],
      },
    ],
  },
};

export function kubeStatus(code: number, reason: string, message: string, details?: object) {
  return {
    status: code,
    body: {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      ...(details ? { details } : {}),
      code,
    },
  };
}

const COLLECTION = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/(deployments|replicasets)(?:\/([^/]+))?$/;
const NAMESPACE = /^\/api\/v1\/namespaces(?:\/([^/]+))?$/;

/** One request to a cluster, by a user already authenticated. */
export function route(c: KubeCluster, kube: KubeState, req: KubeRequest, now: number): KubeAnswer {
  if (req.path === '/version') return { status: 200, body: VERSION };
  const discovery = DISCOVERY[req.path.replace(/\/$/, '')];
  if (discovery) return req.method === 'GET' ? { status: 200, body: discovery } : notAllowed(req);
  const ns = NAMESPACE.exec(req.path);
  if (ns) return namespaces(c, req, ns[1] && decodeURIComponent(ns[1]));
  const m = COLLECTION.exec(req.path);
  if (!m) return kubeStatus(404, 'NotFound', 'the server could not find the requested resource');
  const namespace = decodeURIComponent(m[1]!);
  const resource = m[2] as Resource;
  const name = m[3] && decodeURIComponent(m[3]);
  const verb =
    req.method === 'PATCH'
      ? 'patch'
      : req.method !== 'GET'
        ? ''
        : name
          ? 'get'
          : isWatch(req.query)
            ? 'watch'
            : 'list';
  if (!verb || (verb === 'patch' && (resource !== 'deployments' || !name))) return notAllowed(req);
  if (!allowed(c, req.user, namespace))
    return kubeStatus(
      403,
      'Forbidden',
      `${resource}.apps${name ? ` "${name}"` : ''} is forbidden: User "${req.user}" cannot ${verb} resource "${resource}" in API group "apps" in the namespace "${namespace}"`,
      { ...(name ? { name } : {}), group: 'apps', kind: resource },
    );
  for (const d of Object.values(c.deployments)) materialize(c, kube, d, now);
  const store = resource === 'deployments' ? c.deployments : c.replicaSets;
  if (verb === 'list' || verb === 'watch') {
    const field = fieldName(req.query.get('fieldSelector'));
    if (field === null)
      return kubeStatus(400, 'BadRequest', `unable to parse requirement: field label not supported`);
    const labels = labelSelector(req.query.get('labelSelector'));
    if (!labels)
      return kubeStatus(400, 'BadRequest', `unable to parse requirement: ${req.query.get('labelSelector')}`);
    if (verb === 'watch')
      return {
        watch: {
          resource,
          namespace,
          fieldName: field,
          labels,
          resourceVersion: req.query.get('resourceVersion') ?? '',
          timeoutSeconds: Math.min(1800, Number(req.query.get('timeoutSeconds') ?? 1800) || 1800),
          initialEvents: req.query.get('sendInitialEvents') === 'true',
          bookmarks: req.query.get('allowWatchBookmarks') === 'true',
        },
      };
    const items = matching(Object.values(store), namespace, field, labels);
    return {
      status: 200,
      body: {
        kind: resource === 'deployments' ? 'DeploymentList' : 'ReplicaSetList',
        apiVersion: 'apps/v1',
        metadata: { resourceVersion: String(kube.resourceVersion) },
        items,
      },
    };
  }
  const object = store[key(namespace, name!)];
  if (!object)
    return kubeStatus(404, 'NotFound', `${resource}.apps "${name}" not found`, {
      name,
      group: 'apps',
      kind: resource,
    });
  if (verb === 'get') return { status: 200, body: object };
  return patch(c, kube, object as Deployment, req, now);
}

export function matching<T extends Deployment | ReplicaSet>(
  items: T[],
  namespace: string,
  field: string | undefined,
  labels: Labels,
): T[] {
  return items
    .filter(
      (o) =>
        o.metadata.namespace === namespace &&
        (field === undefined || o.metadata.name === field) &&
        Object.entries(labels).every(([k, v]) => o.metadata.labels?.[k] === v),
    )
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

function patch(c: KubeCluster, kube: KubeState, d: Deployment, req: KubeRequest, now: number): KubeAnswer {
  let next: Deployment;
  try {
    next = applyPatch(d, req.contentType, req.body) as Deployment;
  } catch (error) {
    if (error instanceof PatchError)
      return kubeStatus(
        error.status,
        error.status === 422 ? 'Invalid' : error.status === 415 ? 'UnsupportedMediaType' : 'BadRequest',
        error.message,
      );
    throw error;
  }
  const invalid = validate(d, next);
  if (!invalid) next.spec.template = withDefaults(next.spec.template);
  if (invalid)
    return kubeStatus(422, 'Invalid', `Deployment.apps "${d.metadata.name}" is invalid: ${invalid}`, {
      name: d.metadata.name,
      group: 'apps',
      kind: 'Deployment',
    });
  // Server-side dry run: the object as it would be, nothing stored.
  if (req.query.get('dryRun') === 'All') return { status: 200, body: next };
  const templateChanged = canonical(next.spec.template) !== canonical(d.spec.template);
  const specChanged = canonical(next.spec) !== canonical(d.spec);
  const k = key(d.metadata.namespace, d.metadata.name);
  const wasPaused = d.spec.paused === true;
  d.metadata = {
    ...next.metadata,
    resourceVersion: d.metadata.resourceVersion,
    generation: d.metadata.generation,
  };
  d.spec = next.spec;
  if (specChanged) d.metadata.generation += 1;
  if (wasPaused !== (d.spec.paused === true)) setPaused(c.rollouts[k], d.spec.paused === true, now);
  if (templateChanged) rollOut(c, kube, d, now);
  kube.resourceVersion += 1;
  d.metadata.resourceVersion = String(kube.resourceVersion);
  return { status: 200, body: d };
}

/** What the API server refuses in a patched Deployment, in its words; undefined when valid. */
function validate(before: Deployment, after: Deployment): string | undefined {
  if (after?.metadata?.name !== before.metadata.name)
    return 'metadata.name: Invalid value: field is immutable';
  if (after.metadata.namespace !== before.metadata.namespace)
    return 'metadata.namespace: Invalid value: field is immutable';
  if (canonical(after.spec?.selector) !== canonical(before.spec.selector))
    return 'spec.selector: Invalid value: field is immutable';
  const containers = after.spec.template?.spec?.containers;
  if (!Array.isArray(containers) || containers.length === 0)
    return 'spec.template.spec.containers: Required value';
  for (const [i, ct] of containers.entries()) {
    if (typeof ct?.name !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ct.name))
      return `spec.template.spec.containers[${i}].name: Invalid value`;
    if (typeof ct.image !== 'string' || ct.image.trim() === '' || /\s/.test(ct.image))
      return `spec.template.spec.containers[${i}].image: Invalid value: "${String(ct.image)}"`;
  }
  const labels = after.spec.template.metadata?.labels ?? {};
  if (!Object.entries(after.spec.selector.matchLabels).every(([k, v]) => labels[k] === v))
    return 'spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`';
  if (!Number.isInteger(after.spec.replicas) || after.spec.replicas < 0)
    return 'spec.replicas: Invalid value: must be greater than or equal to 0';
  return undefined;
}

function namespaces(c: KubeCluster, req: KubeRequest, name: string | undefined): KubeAnswer {
  if (req.method !== 'GET') return notAllowed(req);
  const ns = (n: string) => ({
    kind: 'Namespace',
    apiVersion: 'v1',
    metadata: { name: n },
    status: { phase: 'Active' },
  });
  if (!name) {
    if (!allowed(c, req.user, '*'))
      return kubeStatus(
        403,
        'Forbidden',
        `namespaces is forbidden: User "${req.user}" cannot list resource "namespaces" in API group "" at the cluster scope`,
      );
    return {
      status: 200,
      body: { kind: 'NamespaceList', apiVersion: 'v1', metadata: {}, items: c.namespaces.map(ns) },
    };
  }
  if (!allowed(c, req.user, name))
    return kubeStatus(
      403,
      'Forbidden',
      `namespaces "${name}" is forbidden: User "${req.user}" cannot get resource "namespaces" in API group "" in the namespace "${name}"`,
    );
  if (!c.namespaces.includes(name))
    return kubeStatus(404, 'NotFound', `namespaces "${name}" not found`, { name, kind: 'namespaces' });
  return { status: 200, body: ns(name) };
}

const allowed = (c: KubeCluster, user: string, namespace: string) => {
  const grant = c.grants[user] ?? [];
  return grant.includes('*') || (namespace !== '*' && grant.includes(namespace));
};

const isWatch = (q: URLSearchParams) => q.get('watch') === 'true' || q.get('watch') === '1';

function notAllowed(req: KubeRequest): KubeAnswer {
  return kubeStatus(
    405,
    'MethodNotAllowed',
    `the server does not allow this method on the requested resource (${req.method} ${req.path})`,
  );
}

/** `metadata.name=x` (or `==`): the only field selector kubectl's rollout commands send. */
function fieldName(selector: string | null): string | undefined | null {
  if (!selector) return undefined;
  const m = /^metadata\.name==?(.+)$/.exec(selector);
  return m ? m[1]! : null;
}

/** Equality-based label selectors (`a=b,c==d`); undefined for anything else. */
export function labelSelector(selector: string | null): Labels | undefined {
  if (!selector) return {};
  const labels: Labels = {};
  for (const part of selector.split(',')) {
    const m = /^\s*([A-Za-z0-9_./-]+)\s*==?\s*([A-Za-z0-9_.-]*)\s*$/.exec(part);
    if (!m) return undefined;
    labels[m[1]!] = m[2]!;
  }
  return labels;
}
