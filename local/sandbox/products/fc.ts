import { ApiError } from '../api-error.ts';
import {
  json,
  type RestContext,
  type RestRequest,
  type RestResponse,
  readJson,
  unknownRoute,
} from './rest.ts';

/** How the sandbox hands an InvokeFunction to the local runtime (when both run together). */
export interface InvokeTarget {
  invokeAsync(
    functionName: string,
    payload: Buffer,
    options: { source: string; taskId?: string; qualifier?: string },
  ): Promise<{ requestId: string }>;
  has(functionName: string): boolean;
}

type Weights = Record<string, number>;

/** FC 3.0 (2023-03-30): InvokeFunction, PublishFunctionVersion, ListFunctionVersions and aliases. */
export function fcRoute(
  ctx: RestContext,
  req: RestRequest,
  runtime: InvokeTarget | undefined,
): { action: string; run: () => RestResponse | Promise<RestResponse> } {
  const m = /^\/2023-03-30\/functions\/([^/]+)(\/.*)?$/.exec(req.path);
  if (!m) return unknownRoute(req);
  const name = decodeURIComponent(m[1]!);
  const rest = m[2] ?? '';
  const fn = () => {
    const found = ctx.state.fc.functions[name];
    if (!found) throw new ApiError(404, 'FunctionNotFound', `function not found: ${name}`);
    return found;
  };
  const body = () => {
    try {
      return readJson(req);
    } catch {
      throw new ApiError(400, 'InvalidArgument', 'the request body is not valid JSON');
    }
  };
  const checkWeights = (weights: unknown, main: string) => {
    if (weights === undefined) return {} as Weights;
    if (typeof weights !== 'object' || weights === null)
      throw new ApiError(400, 'InvalidArgument', 'additionalVersionWeight must be an object');
    const entries = Object.entries(weights as Weights);
    let total = 0;
    for (const [version, weight] of entries) {
      if (!fn().versions.some((v) => v.versionId === version))
        throw new ApiError(404, 'VersionNotFound', `version not found: ${version}`);
      if (version === main)
        throw new ApiError(
          400,
          'InvalidArgument',
          `the additional version ${version} is the alias's main version`,
        );
      if (typeof weight !== 'number' || weight < 0 || weight > 1)
        throw new ApiError(400, 'InvalidArgument', `weight of version ${version} must be between 0 and 1`);
      total += weight;
    }
    if (total > 1)
      throw new ApiError(400, 'InvalidArgument', 'additional version weights add up to more than 1');
    return Object.fromEntries(entries) as Weights;
  };

  if (rest === '/invocations' && req.method === 'POST') {
    return {
      action: 'InvokeFunction',
      run: async () => {
        if (runtime?.has(name)) {
          const taskId = req.headers['x-fc-async-task-id'];
          const qualifier = req.query.qualifier;
          let requestId: string;
          try {
            ({ requestId } = await runtime.invokeAsync(name, req.body, {
              source: 'sandbox-fc',
              ...(taskId ? { taskId } : {}),
              ...(qualifier ? { qualifier } : {}),
            }));
          } catch (error) {
            // FC keeps the first task of an id and refuses the next, as the runtime's own invoke API does.
            if ((error as Error).name === 'DuplicateTaskError')
              throw new ApiError(409, 'AsyncTaskAlreadyExist', (error as Error).message);
            throw error;
          }
          return json(202, null, { 'x-fc-request-id': requestId });
        }
        fn();
        return json(202, null, { 'x-fc-request-id': `sbx-${Date.now()}` });
      },
    };
  }
  if (rest === '/versions' && req.method === 'POST') {
    return {
      action: 'PublishFunctionVersion',
      run: () => {
        const f = fn();
        const next = String(Math.max(0, ...f.versions.map((v) => Number(v.versionId))) + 1);
        const version = {
          versionId: next,
          description: String(body().description ?? ''),
          createdTime: new Date(ctx.now).toISOString(),
        };
        f.versions.push(version);
        return json(200, { ...version, lastModifiedTime: version.createdTime });
      },
    };
  }
  if (rest === '/versions' && req.method === 'GET') {
    return {
      action: 'ListFunctionVersions',
      run: () => {
        const limit = Math.min(100, Math.max(1, Number(req.query.limit ?? 20)));
        const sorted = [...fn().versions].sort((a, b) => Number(b.versionId) - Number(a.versionId));
        const after = req.query.nextToken ? sorted.findIndex((v) => v.versionId === req.query.nextToken) : 0;
        const slice = sorted.slice(Math.max(0, after), Math.max(0, after) + limit);
        const next = sorted[Math.max(0, after) + limit];
        return json(200, { versions: slice, nextToken: next?.versionId ?? '', direction: 'BACKWARD' });
      },
    };
  }
  const alias = /^\/aliases(?:\/([^/]+))?$/.exec(rest);
  if (alias) {
    const aliasName = alias[1] ? decodeURIComponent(alias[1]) : undefined;
    if (req.method === 'GET' && aliasName) {
      return {
        action: 'GetAlias',
        run: () => {
          const a = fn().aliases[aliasName];
          if (!a) throw new ApiError(404, 'AliasNotFound', `alias not found: ${aliasName}`);
          return json(200, a);
        },
      };
    }
    if (req.method === 'POST' && !aliasName) {
      return {
        action: 'CreateAlias',
        run: () => {
          const f = fn();
          const input = body();
          const newName = String(input.aliasName ?? '');
          const versionId = String(input.versionId ?? '');
          if (!newName) throw new ApiError(400, 'InvalidArgument', 'aliasName is required');
          if (f.aliases[newName])
            throw new ApiError(409, 'AliasAlreadyExists', `alias already exists: ${newName}`);
          if (!f.versions.some((v) => v.versionId === versionId))
            throw new ApiError(404, 'VersionNotFound', `version not found: ${versionId}`);
          const now = new Date(ctx.now).toISOString();
          f.aliases[newName] = {
            aliasName: newName,
            versionId,
            description: String(input.description ?? ''),
            additionalVersionWeight: checkWeights(input.additionalVersionWeight, versionId),
            createdTime: now,
            lastModifiedTime: now,
          };
          return json(200, f.aliases[newName]);
        },
      };
    }
    if (req.method === 'PUT' && aliasName) {
      return {
        action: 'UpdateAlias',
        run: () => {
          const f = fn();
          const a = f.aliases[aliasName];
          if (!a) throw new ApiError(404, 'AliasNotFound', `alias not found: ${aliasName}`);
          const input = body();
          const versionId = input.versionId === undefined ? a.versionId : String(input.versionId);
          if (!f.versions.some((v) => v.versionId === versionId))
            throw new ApiError(404, 'VersionNotFound', `version not found: ${versionId}`);
          a.additionalVersionWeight =
            input.additionalVersionWeight === undefined
              ? a.additionalVersionWeight
              : checkWeights(input.additionalVersionWeight, versionId);
          a.versionId = versionId;
          if (input.description !== undefined) a.description = String(input.description);
          a.lastModifiedTime = new Date(ctx.now).toISOString();
          return json(200, a);
        },
      };
    }
  }
  return unknownRoute(req);
}
