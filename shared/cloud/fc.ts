import { signAcs3 } from './acs3.ts';
import type { CredentialSource } from './credentials.ts';
import type { RetryPolicy } from './retry.ts';
import { signedFetch } from './signed-http.ts';

const VERSION = '2023-03-30';

export interface FcVersion {
  versionId: string;
  description?: string;
  createdTime?: string;
  lastModifiedTime?: string;
}

export interface FcAlias {
  aliasName: string;
  versionId: string;
  description?: string;
  /** Canary weights as fractions: `{ "3": 0.1 }` sends 10 % to version 3. */
  additionalVersionWeight?: Record<string, number>;
  createdTime?: string;
  lastModifiedTime?: string;
}

/**
 * Function Compute 3.0 (API 2023-03-30), where versions and aliases live on the function. A small
 * client signed with ACS3-HMAC-SHA256: `@alicloud/fc2` speaks the 2.0 API (services), and the
 * generated `@alicloud/fc20230330` SDK brings ~30 MB of dependencies for six calls.
 */
export class FcClient {
  constructor(
    private readonly config: {
      endpoint: string;
      credentials: CredentialSource;
      timeoutMs?: number;
      retry?: RetryPolicy;
    },
  ) {}

  private async call<T>(
    action: string,
    method: string,
    path: string,
    options: {
      query?: Record<string, string>;
      body?: unknown;
      headers?: Record<string, string>;
      raw?: Buffer;
    } = {},
  ) {
    const body =
      options.raw ??
      (options.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(options.body)));
    const headers = {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    };
    const response = await signedFetch(
      { service: 'fc', ...this.config },
      action,
      { method, path: `/${VERSION}${path}`, query: options.query ?? {}, headers, body },
      (req, credentials, url) => signAcs3(req, credentials, { action, version: VERSION, host: url.host }),
    );
    return { response, json: () => JSON.parse(response.body.toString('utf8') || 'null') as T };
  }

  /** Queue an async invocation; returns FC's request id. `taskId` dedupes when async tasks are on. */
  async invokeAsync(
    functionName: string,
    payload: Buffer,
    options: { qualifier?: string; taskId?: string } = {},
  ): Promise<{ requestId: string }> {
    const headers: Record<string, string> = {
      'x-fc-invocation-type': 'Async',
      'content-type': 'application/octet-stream',
    };
    if (options.taskId) headers['x-fc-async-task-id'] = options.taskId;
    const { response } = await this.call(
      'InvokeFunction',
      'POST',
      `/functions/${encodeURIComponent(functionName)}/invocations`,
      {
        raw: payload,
        headers,
        ...(options.qualifier ? { query: { qualifier: options.qualifier } } : {}),
      },
    );
    return { requestId: response.headers.get('x-fc-request-id') ?? '' };
  }

  async publishVersion(functionName: string, description?: string): Promise<FcVersion> {
    const { json } = await this.call<FcVersion>(
      'PublishFunctionVersion',
      'POST',
      `/functions/${encodeURIComponent(functionName)}/versions`,
      {
        body: description ? { description } : {},
      },
    );
    return json();
  }

  async listVersions(
    functionName: string,
    options: { limit?: number; nextToken?: string } = {},
  ): Promise<{ versions: FcVersion[]; nextToken: string | undefined }> {
    const query: Record<string, string> = { limit: String(options.limit ?? 100), direction: 'BACKWARD' };
    if (options.nextToken) query.nextToken = options.nextToken;
    const { json } = await this.call<{ versions?: FcVersion[]; nextToken?: string }>(
      'ListFunctionVersions',
      'GET',
      `/functions/${encodeURIComponent(functionName)}/versions`,
      { query },
    );
    const result = json();
    return { versions: result.versions ?? [], nextToken: result.nextToken || undefined };
  }

  async getAlias(functionName: string, aliasName: string): Promise<FcAlias> {
    const { json } = await this.call<FcAlias>(
      'GetAlias',
      'GET',
      `/functions/${encodeURIComponent(functionName)}/aliases/${encodeURIComponent(aliasName)}`,
    );
    return json();
  }

  async createAlias(
    functionName: string,
    alias: Omit<FcAlias, 'createdTime' | 'lastModifiedTime'>,
  ): Promise<FcAlias> {
    const { json } = await this.call<FcAlias>(
      'CreateAlias',
      'POST',
      `/functions/${encodeURIComponent(functionName)}/aliases`,
      { body: alias },
    );
    return json();
  }

  async updateAlias(
    functionName: string,
    aliasName: string,
    update: { versionId: string; additionalVersionWeight?: Record<string, number>; description?: string },
  ): Promise<FcAlias> {
    const { json } = await this.call<FcAlias>(
      'UpdateAlias',
      'PUT',
      `/functions/${encodeURIComponent(functionName)}/aliases/${encodeURIComponent(aliasName)}`,
      {
        body: { additionalVersionWeight: {}, ...update },
      },
    );
    return json();
  }
}
