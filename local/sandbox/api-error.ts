/** An Alibaba Cloud API error as the sandbox answers it: HTTP status, Code, Message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type Params = Record<string, string>;

/** Parameter readers that fail the way the real services do: MissingParameter / InvalidParameter. */
export function param(params: Params, name: string): string {
  const value = params[name];
  if (value === undefined || value === '') {
    throw new ApiError(
      400,
      'MissingParameter',
      `The input parameter "${name}" that is mandatory for processing this request is not supplied.`,
    );
  }
  return value;
}

export function optional(params: Params, name: string): string | undefined {
  const value = params[name];
  return value === undefined || value === '' ? undefined : value;
}

export function intParam(
  params: Params,
  name: string,
  options: { min?: number; max?: number; allowed?: number[]; fallback?: number } = {},
): number {
  const raw = optional(params, name);
  if (raw === undefined) {
    if (options.fallback !== undefined) return options.fallback;
    return Number(param(params, name));
  }
  const value = Number(raw);
  const bad =
    !Number.isInteger(value) ||
    (options.min !== undefined && value < options.min) ||
    (options.max !== undefined && value > options.max) ||
    (options.allowed !== undefined && !options.allowed.includes(value));
  if (bad)
    throw new ApiError(400, 'InvalidParameter', `The specified parameter "${name}" is not valid: ${raw}.`);
  return value;
}

export function enumParam<T extends string>(
  params: Params,
  name: string,
  allowed: readonly T[],
  fallback?: T,
): T {
  const raw = optional(params, name) ?? fallback;
  if (raw === undefined) return param(params, name) as T;
  if (!allowed.includes(raw as T)) {
    throw new ApiError(
      400,
      'InvalidParameter',
      `The specified parameter "${name}" is not valid: ${raw}; expected one of ${allowed.join(', ')}.`,
    );
  }
  return raw as T;
}

/** `Key.1`, `Key.2`, … as a list. */
export function listParam(params: Params, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 1; params[`${prefix}.${i}`] !== undefined; i++) out.push(params[`${prefix}.${i}`]!);
  return out;
}

/** `Tag.N.Key` / `Tag.N.Value` as a record. */
export function tagParams(params: Params): Record<string, string> {
  const tags: Record<string, string> = {};
  for (let i = 1; params[`Tag.${i}.Key`] !== undefined; i++)
    tags[params[`Tag.${i}.Key`]!] = params[`Tag.${i}.Value`] ?? '';
  return tags;
}

export function notFound(code: string, what: string): ApiError {
  return new ApiError(404, code, `The specified ${what} does not exist.`);
}
