// The three patch types the API server takes for a Deployment: JSON Patch (RFC 6902, what
// `kubectl rollout undo` sends), JSON merge patch (RFC 7386) and strategic merge patch (what
// `kubectl set image` and `kubectl rollout pause` send; containers merge by name).

export class PatchError extends Error {
  constructor(
    readonly status: 400 | 415 | 422,
    message: string,
  ) {
    super(message);
  }
}

type Json = unknown;
type Obj = Record<string, Json>;
const isObject = (v: Json): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function applyPatch(doc: Json, contentType: string, body: string): Json {
  let patch: Json;
  try {
    patch = JSON.parse(body);
  } catch {
    throw new PatchError(400, 'the patch is not valid JSON');
  }
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json-patch+json') return jsonPatch(doc, patch);
  if (type === 'application/merge-patch+json') return mergePatch(doc, patch, false);
  if (type === 'application/strategic-merge-patch+json') return mergePatch(doc, patch, true);
  throw new PatchError(
    415,
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
  );
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchError(422, `invalid JSON pointer "${path}"`);
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function jsonPatch(doc: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw new PatchError(400, 'a JSON patch is an array of operations');
  let root = structuredClone(doc);
  for (const op of ops) {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string')
      throw new PatchError(400, 'each JSON patch operation needs "op" and "path"');
    const parts = pointer(op.path);
    if (parts.length === 0) {
      if (op.op === 'replace' || op.op === 'add') root = structuredClone(op.value);
      else if (op.op === 'test' && JSON.stringify(root) !== JSON.stringify(op.value))
        throw new PatchError(422, `the test at "" failed`);
      continue;
    }
    const last = parts.at(-1)!;
    let parent: Json = root;
    for (const p of parts.slice(0, -1)) {
      parent = Array.isArray(parent) ? parent[Number(p)] : isObject(parent) ? parent[p] : undefined;
      if (parent === undefined) throw new PatchError(422, `doc is missing path: "${op.path}"`);
    }
    const at = (c: Json) => (Array.isArray(c) ? c[Number(last)] : isObject(c) ? c[last] : undefined);
    switch (op.op) {
      case 'test':
        if (JSON.stringify(at(parent)) !== JSON.stringify(op.value))
          throw new PatchError(422, `the test at "${op.path}" failed: value does not match`);
        break;
      case 'remove':
        if (at(parent) === undefined)
          throw new PatchError(422, `unable to remove nonexistent key: "${op.path}"`);
        if (Array.isArray(parent)) parent.splice(Number(last), 1);
        else delete (parent as Obj)[last];
        break;
      case 'replace':
        if (at(parent) === undefined)
          throw new PatchError(422, `replace operation does not apply: doc is missing key: "${op.path}"`);
        if (Array.isArray(parent)) parent[Number(last)] = structuredClone(op.value);
        else (parent as Obj)[last] = structuredClone(op.value);
        break;
      case 'add':
        if (Array.isArray(parent)) {
          const i = last === '-' ? parent.length : Number(last);
          if (!Number.isInteger(i) || i < 0 || i > parent.length)
            throw new PatchError(422, `add operation does not apply: index out of range at "${op.path}"`);
          parent.splice(i, 0, structuredClone(op.value));
        } else if (isObject(parent)) parent[last] = structuredClone(op.value);
        else throw new PatchError(422, `doc is missing path: "${op.path}"`);
        break;
      default:
        throw new PatchError(400, `unsupported JSON patch operation "${op.op}"`);
    }
  }
  return root;
}

function mergePatch(target: Json, patch: Json, strategic: boolean): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Obj = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (v === null) delete out[k];
    else if (strategic && k === 'containers' && Array.isArray(v) && Array.isArray(out[k]))
      out[k] = mergeByName(out[k] as Json[], v);
    else out[k] = mergePatch(out[k], v, strategic);
  }
  return out;
}

/** Strategic merge of a list keyed by `name`: patched entries merge into theirs, new ones append. */
function mergeByName(current: Json[], patch: Json[]): Json[] {
  const out = current.map((c) => structuredClone(c));
  for (const p of patch) {
    if (!isObject(p) || typeof p.name !== 'string')
      throw new PatchError(422, 'containers are merged by name');
    const i = out.findIndex((c) => isObject(c) && c.name === p.name);
    if (i >= 0) out[i] = mergePatch(out[i], p, true);
    else out.push(structuredClone(p));
  }
  return out;
}
