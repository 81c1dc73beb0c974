import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../../local/runtime/s-yaml.ts';
import { ConfigError } from '../../shared/runtime/errors.ts';

function project(yaml: string, env: NodeJS.ProcessEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 's-yaml-'));
  const file = join(dir, 's.yaml');
  writeFileSync(file, yaml);
  return { load: () => loadProject(file, env), dir };
}

function problem(yaml: string) {
  try {
    project(yaml).load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems[0]!;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const fn = (props: string) => `edition: 3.0.0
name: t
vars: { region: cn-hangzhou }
resources:
  a:
    component: fc3
    props:
      region: \${vars.region}
      functionName: a
      runtime: nodejs20
      handler: index.handler
      code: ./dist/a
${props}`;

describe('s.yaml', () => {
  it('reads the fc3 props the runtime honours, with FC defaults', () => {
    const { load, dir } = project(fn(''));
    const [spec] = load().functions;
    expect(spec).toMatchObject({
      name: 'a',
      region: 'cn-hangzhou',
      codeDir: join(dir, 'dist/a'),
      timeout: 3,
      memorySize: 512,
      maxAsyncRetryAttempts: 3,
      maxAsyncEventAgeInSeconds: 86_400,
      timers: [],
      oss: [],
    });
  });

  it('interpolates vars and env with defaults', () => {
    const yaml = fn(
      `      environmentVariables:\n        A: \${env('A_VAR')}\n        B: \${env('B_VAR', 'fallback')}\n        N: 3\n`,
    );
    const [spec] = project(yaml, { A_VAR: 'from-env' }).load().functions;
    expect(spec?.environmentVariables).toEqual({ A: 'from-env', B: 'fallback', N: '3' });
  });

  it('names the line and field of a bad prop', () => {
    expect(problem(fn('      timeout: 100000\n'))).toMatchObject({
      line: 13,
      column: 16,
      field: 'resources.a.props.timeout',
    });
    expect(problem(fn('      memorySize: 100\n'))).toMatchObject({ field: 'resources.a.props.memorySize' });
  });

  it('checks trigger configs: methods, cron, OSS events', () => {
    const http = problem(
      fn(
        '      triggers:\n        - { triggerName: h, triggerType: http, triggerConfig: { methods: [FETCH] } }\n',
      ),
    );
    expect(http.field).toBe('resources.a.props.triggers.0.triggerConfig.methods.0');
    const timer = problem(
      fn(
        "      triggers:\n        - { triggerName: t, triggerType: timer, triggerConfig: { cronExpression: '0 * * * *', enable: true } }\n",
      ),
    );
    expect(timer).toMatchObject({
      field: 'resources.a.props.triggers.0.triggerConfig.cronExpression',
      message: expect.stringMatching(/6 fields/),
    });
  });

  it('refuses an unset env variable without default, and unknown expressions', () => {
    expect(problem(fn("      environmentVariables:\n        T: ${env('NOPE')}\n"))).toMatchObject({
      field: 'resources.a.props.environmentVariables.T',
      message: 'environment variable NOPE is not set and has no default',
    });
    expect(problem(fn('      description: ${config("AccountID")}\n')).message).toMatch(
      /unsupported expression/,
    );
  });

  it('refuses runtimes the local runtime cannot run and duplicate function names', () => {
    expect(problem(fn('').replace('nodejs20', 'python3.10')).field).toBe('resources.a.props.runtime');
    const dup = `${fn('')}  b:\n    component: fc3\n    props: { region: r, functionName: a, runtime: nodejs20, handler: index.handler, code: ./b }\n`;
    expect(problem(dup).message).toBe('duplicate function name "a"');
  });

  it('reports YAML that does not parse, with its line', () => {
    expect(problem('resources:\n  a: [\n')).toMatchObject({
      line: expect.any(Number),
      message: expect.any(String),
    });
  });
});
