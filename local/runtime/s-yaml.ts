import { dirname, resolve } from 'node:path';
import * as z from 'zod';
import {
  configErrorFromIssues,
  readConfigFile,
  readYaml,
  type YamlSource,
} from '../../shared/config/yaml-source.ts';
import { ConfigError } from '../../shared/runtime/errors.ts';
import { parseSchedule } from '../../shared/schedule/cron.ts';

/** The fc3 props the local runtime honours; other props (role, vpcConfig, logConfig…) pass through. */
const httpTrigger = z.object({
  triggerName: z.string().min(1),
  triggerType: z.literal('http'),
  qualifier: z.string().optional(),
  triggerConfig: z.object({
    authType: z.enum(['anonymous', 'function', 'jwt']).default('anonymous'),
    methods: z.array(z.enum(['HEAD', 'DELETE', 'POST', 'GET', 'OPTIONS', 'PUT', 'PATCH'])).min(1),
    disableURLInternet: z.boolean().optional(),
  }),
});

const timerTrigger = z.object({
  triggerName: z.string().min(1),
  triggerType: z.literal('timer'),
  qualifier: z.string().optional(),
  triggerConfig: z.object({
    cronExpression: z.string().superRefine((v, ctx) => {
      try {
        parseSchedule(v);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
      }
    }),
    enable: z.boolean(),
    payload: z
      .string()
      .max(128 * 1024)
      .optional(),
  }),
});

const ossTrigger = z.object({
  triggerName: z.string().min(1),
  triggerType: z.literal('oss'),
  qualifier: z.string().optional(),
  sourceArn: z
    .string()
    .regex(
      /^acs:oss:[^:]*:[^:]*:[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/,
      'expected acs:oss:<region>:<account>:<bucket>',
    ),
  invocationRole: z.string().optional(),
  triggerConfig: z.object({
    events: z.array(z.string().regex(/^oss:Object(Created|Removed|Modified):(\*|\w+)$/)).min(1),
    filter: z
      .object({ key: z.object({ prefix: z.string().default(''), suffix: z.string().default('') }).partial() })
      .partial()
      .default({}),
  }),
});

/** Trigger types the local runtime does not emulate still validate their outer shape. */
const otherTrigger = z.object({
  triggerName: z.string().min(1),
  triggerType: z.enum(['log', 'eventbridge', 'mns_topic', 'cdn_events', 'tablestore']),
  triggerConfig: z.unknown(),
});

const trigger = z.discriminatedUnion('triggerType', [httpTrigger, timerTrigger, ossTrigger, otherTrigger]);

const destination = z
  .object({ destination: z.string().regex(/^acs:(fc|mns|eventbridge|mq|rocketmq):/) })
  .optional();

const fc3Props = z.looseObject({
  region: z.string().min(1),
  functionName: z
    .string()
    .regex(/^[a-zA-Z_][a-zA-Z0-9_-]{0,63}$/, 'FC function names: letters, digits, _ and -, at most 64'),
  runtime: z.enum(['nodejs18', 'nodejs20'], {
    message: 'the local runtime runs nodejs18 and nodejs20 functions',
  }),
  handler: z.string().regex(/^[\w./-]+\.[A-Za-z_$][\w$]*$/, 'expected file.export, e.g. index.handler'),
  code: z.string().min(1),
  timeout: z.number().int().min(1).max(86_400).default(3),
  memorySize: z.number().int().min(128).max(32_768).multipleOf(64).default(512),
  environmentVariables: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String))
    .default({}),
  asyncInvokeConfig: z
    .object({
      maxAsyncRetryAttempts: z.number().int().min(0).max(8).default(3),
      maxAsyncEventAgeInSeconds: z.number().int().min(1).max(604_800).default(86_400),
      destinationConfig: z.object({ onSuccess: destination, onFailure: destination }).partial().default({}),
      asyncTask: z.boolean().default(false),
    })
    .default({
      maxAsyncRetryAttempts: 3,
      maxAsyncEventAgeInSeconds: 86_400,
      destinationConfig: {},
      asyncTask: false,
    }),
  triggers: z.array(trigger).default([]),
});

export type HttpTrigger = z.infer<typeof httpTrigger>;
export type TimerTrigger = z.infer<typeof timerTrigger>;
export type OssTrigger = z.infer<typeof ossTrigger>;

export interface FunctionSpec {
  resource: string;
  name: string;
  handler: string;
  /** Absolute path of the code directory. */
  codeDir: string;
  runtime: string;
  region: string;
  timeout: number;
  memorySize: number;
  environmentVariables: Record<string, string>;
  maxAsyncRetryAttempts: number;
  maxAsyncEventAgeInSeconds: number;
  onSuccess: string | undefined;
  onFailure: string | undefined;
  asyncTask: boolean;
  http: HttpTrigger | undefined;
  timers: TimerTrigger[];
  oss: OssTrigger[];
  /** Every fc3 prop as written, variables resolved: what `s deploy` gets. */
  props: Record<string, unknown>;
}

export interface Project {
  file: string;
  root: string;
  functions: FunctionSpec[];
}

/** Read s.yaml (Serverless Devs edition 3.0.0) and the fc3 props of each resource. */
export function loadProject(file: string, env: NodeJS.ProcessEnv = process.env): Project {
  const text = readConfigFile(file);
  const source = readYaml(text, file);
  const root = dirname(resolve(file));
  const top = z
    .looseObject({
      edition: z.string().optional(),
      vars: z.record(z.string(), z.unknown()).default({}),
      resources: z.record(z.string(), z.looseObject({ component: z.string(), props: z.unknown() })),
    })
    .safeParse(source.data);
  if (!top.success) throw configErrorFromIssues(source, top.error.issues);

  // Serverless Devs resolves \${env(...)} inside vars too: deploy settings come from the environment.
  const vars = interpolate(top.data.vars, { vars: {}, env, source, path: ['vars'] }) as Record<
    string,
    unknown
  >;
  const functions: FunctionSpec[] = [];
  const problems: ConfigError[] = [];
  for (const [resource, def] of Object.entries(top.data.resources)) {
    // fc3, devsapp/fc3, fc3@0.1.x or a local path to the component.
    if (!def.component.includes('fc3')) continue;
    const path = ['resources', resource, 'props'];
    const props = interpolate(def.props, { vars, env, source, path });
    const parsed = fc3Props.safeParse(props);
    if (!parsed.success) {
      problems.push(configErrorFromIssues(source, parsed.error.issues, path));
      continue;
    }
    const p = parsed.data;
    functions.push({
      resource,
      name: p.functionName,
      handler: p.handler,
      codeDir: resolve(root, p.code),
      runtime: p.runtime,
      region: p.region,
      timeout: p.timeout,
      memorySize: p.memorySize,
      environmentVariables: p.environmentVariables,
      maxAsyncRetryAttempts: p.asyncInvokeConfig.maxAsyncRetryAttempts,
      maxAsyncEventAgeInSeconds: p.asyncInvokeConfig.maxAsyncEventAgeInSeconds,
      onSuccess: p.asyncInvokeConfig.destinationConfig.onSuccess?.destination,
      onFailure: p.asyncInvokeConfig.destinationConfig.onFailure?.destination,
      asyncTask: p.asyncInvokeConfig.asyncTask,
      http: p.triggers.find((t): t is HttpTrigger => t.triggerType === 'http'),
      timers: p.triggers.filter((t): t is TimerTrigger => t.triggerType === 'timer'),
      oss: p.triggers.filter((t): t is OssTrigger => t.triggerType === 'oss'),
      props: props as Record<string, unknown>,
    });
  }
  if (problems.length > 0) throw new ConfigError(problems.flatMap((e) => e.problems));
  const seen = new Set<string>();
  for (const fn of functions) {
    if (seen.has(fn.name)) {
      const pos = source.locate(['resources', fn.resource, 'props', 'functionName']);
      throw new ConfigError([
        {
          file,
          line: pos?.line,
          column: pos?.column,
          field: `resources.${fn.resource}.props.functionName`,
          message: `duplicate function name "${fn.name}"`,
        },
      ] as ConstructorParameters<typeof ConfigError>[0]);
    }
    seen.add(fn.name);
  }
  return { file, root, functions };
}

interface InterpolationScope {
  vars: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  source: YamlSource;
  path: (string | number)[];
}

const EXPR = /\$\{([^}]+)\}/g;

/** Serverless Devs variables: `${vars.x}`, `${env('NAME')}`, `${env('NAME', 'default')}`, `${env.NAME}`. */
function interpolate(value: unknown, scope: InterpolationScope): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{([^}]+)\}$/.exec(value);
    if (whole) return evaluate(whole[1]!.trim(), scope);
    return value.replace(EXPR, (_, expr: string) => String(evaluate(expr.trim(), scope)));
  }
  if (Array.isArray(value))
    return value.map((v, i) => interpolate(v, { ...scope, path: [...scope.path, i] }));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolate(v, { ...scope, path: [...scope.path, k] })]),
    );
  }
  return value;
}

function evaluate(expr: string, scope: InterpolationScope): unknown {
  const vars = /^vars\.([\w-]+)$/.exec(expr);
  if (vars) {
    if (!(vars[1]! in scope.vars)) return fail(`unknown variable vars.${vars[1]}`, scope);
    return scope.vars[vars[1]!];
  }
  const env =
    /^env\(\s*['"]([\w]+)['"]\s*(?:,\s*['"]([^'"]*)['"]\s*)?\)$/.exec(expr) ?? /^env\.([\w]+)$/.exec(expr);
  if (env) {
    const value = scope.env[env[1]!] ?? env[2];
    if (value === undefined)
      return fail(`environment variable ${env[1]} is not set and has no default`, scope);
    return value;
  }
  return fail(`unsupported expression \${${expr}} (the local runtime knows vars.x and env('NAME'))`, scope);
}

function fail(message: string, scope: InterpolationScope): never {
  const pos = scope.source.locate(scope.path);
  throw new ConfigError([
    { file: scope.source.file, line: pos?.line, column: pos?.column, field: scope.path.join('.'), message },
  ] as ConstructorParameters<typeof ConfigError>[0]);
}
