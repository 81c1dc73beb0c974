import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type PackerOutput, parseMachineReadable, parseRow } from './packer-output.ts';
import { runProcess } from './process.ts';

export interface PackerCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string | undefined;
}

export interface PackerRun {
  /** Path of the packer binary (`/opt/bin/packer` in an FC layer, `packer` on PATH locally). */
  bin: string;
  /** The checked-out repository; the template path is relative to it. */
  dir: string;
  template: string;
  variables: Record<string, string>;
  credentials: PackerCredentials;
  region: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Each log line as it happens (human-readable; secrets already masked). */
  onLog?: (line: string) => void;
  /** Where packer is: `validate`, then `build` with each step it announces (`==> builder: ...`). */
  onStage?: (stage: 'validate' | 'build', detail?: string) => void;
  /** Scratch space for packer's own config and cache (FC only lets functions write under /tmp). */
  scratch: string;
}

export type PackerResult =
  | { ok: true; output: PackerOutput }
  | {
      ok: false;
      stage: 'init' | 'validate' | 'build';
      reason: 'failed' | 'timeout' | 'cancelled';
      /** Packer's own message (its error rows, or the tail of what it printed). */
      message: string;
      exitCode: number | null;
      output: PackerOutput;
    };

/**
 * The environment packer runs with: the function's credentials under the names the alicloud builder
 * reads (they are not the ALIBABA_CLOUD_* names FC sets), no update checks (the network may be closed),
 * and a writable home.
 */
export function packerEnv(run: Pick<PackerRun, 'credentials' | 'region' | 'scratch'>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: run.scratch,
    TMPDIR: run.scratch,
    PACKER_CONFIG_DIR: join(run.scratch, '.packer.d'),
    PACKER_CACHE_DIR: join(run.scratch, 'packer_cache'),
    PACKER_PLUGIN_PATH: process.env.PACKER_PLUGIN_PATH ?? join(run.scratch, '.packer.d', 'plugins'),
    CHECKPOINT_DISABLE: '1',
    ALICLOUD_ACCESS_KEY: run.credentials.accessKeyId,
    ALICLOUD_SECRET_KEY: run.credentials.accessKeySecret,
    ALICLOUD_REGION: run.region,
  };
  if (run.credentials.securityToken) env.SECURITY_TOKEN = run.credentials.securityToken;
  return env;
}

/** `packer validate`, then `packer build -machine-readable`, with variables from a var file. */
export async function runPacker(run: PackerRun): Promise<PackerResult> {
  mkdirSync(run.scratch, { recursive: true });
  const varFile = join(run.scratch, 'fc-devops.pkrvars.json');
  // A var file rather than -var flags: JSON templates accept any name, and HCL2 templates only warn
  // about a variable they do not declare instead of failing.
  writeFileSync(varFile, JSON.stringify(run.variables, null, 2));
  const env = packerEnv(run);
  const secrets = [run.credentials.accessKeySecret, run.credentials.securityToken].filter(
    (s): s is string => !!s && s.length >= 4,
  );
  const mask = (line: string) => secrets.reduce((l, s) => l.split(s).join('***'), line);
  const log = (line: string) => run.onLog?.(mask(line));

  // One budget for validate and build together.
  const deadline = Date.now() + run.timeoutMs;
  const common = {
    cwd: run.dir,
    env,
    timeoutMs: run.timeoutMs,
    ...(run.signal ? { signal: run.signal } : {}),
  };
  // Templates that declare plugins (Packer >= 1.7, where alicloud-ecs is a plugin) need them
  // installed first; in FC they come from a layer through PACKER_PLUGIN_PATH, so init is a no-op there.
  if (declaresPlugins(join(run.dir, run.template))) {
    log(`$ packer init ${run.template}`);
    const init = await runProcess(run.bin, ['init', run.template], {
      ...common,
      onStdout: log,
      onStderr: log,
    }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (init && (init.code !== 0 || init.killed))
      return {
        ok: false,
        stage: 'init',
        reason: init.killed ?? 'failed',
        message: mask(
          init.code === 127
            ? `the packer at "${run.bin}" has no init command (it is older than 1.7) but the template declares required_plugins`
            : tail(`${init.stdout}\n${init.stderr}`, 20) || `packer init exited with ${init.code}`,
        ),
        exitCode: init.code,
        output: { artifacts: [], errors: [], messages: [] },
      };
  }
  run.onStage?.('validate');
  log(`$ packer validate -var-file=${varFile} ${run.template}`);
  let validate: Awaited<ReturnType<typeof runProcess>>;
  try {
    validate = await runProcess(run.bin, ['validate', `-var-file=${varFile}`, run.template], {
      ...common,
      onStdout: log,
      onStderr: log,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return {
      ok: false,
      stage: 'validate',
      reason: 'failed',
      message: `packer was not found at "${run.bin}": install it (apt-get install packer) or set images.packer`,
      exitCode: null,
      output: { artifacts: [], errors: [], messages: [] },
    };
  }
  if (validate.code !== 0 || validate.killed) {
    const message = `${validate.stdout}\n${validate.stderr}`.trim();
    return {
      ok: false,
      stage: 'validate',
      reason: validate.killed ?? 'failed',
      message: mask(message || `packer validate exited with ${validate.code}`),
      exitCode: validate.code,
      output: { artifacts: [], errors: [], messages: [] },
    };
  }

  log(`$ packer build -machine-readable -var-file=${varFile} ${run.template}`);
  run.onStage?.('build');
  let steps = 0;
  const build = await runProcess(
    run.bin,
    ['build', '-machine-readable', '-color=false', `-var-file=${varFile}`, run.template],
    {
      ...common,
      timeoutMs: Math.max(1000, deadline - Date.now()),
      onStdout: (line) => {
        const row = parseRow(line);
        if (!row) return log(line);
        if (row.type === 'ui') {
          const text = row.data[1] ?? '';
          log(`${row.data[0] === 'error' ? 'ERROR ' : ''}${text}`);
          // Packer announces each step of a build as "==> <build>: <what>"; the count is what is known.
          const step = /^==> ([^:]+): (.*)$/.exec(text.trim());
          if (step) run.onStage?.('build', `step ${++steps}: ${step[1]}: ${step[2]}`.slice(0, 200));
        } else if (row.type === 'artifact' && row.data[1] === 'id')
          log(`artifact ${row.target}#${row.data[0]}: ${row.data[2]}`);
      },
      onStderr: log,
    },
  );
  const output = parseMachineReadable(build.stdout);
  if (build.code !== 0 || build.killed || output.errors.length > 0) {
    const reason = build.killed ?? 'failed';
    const message =
      reason === 'timeout'
        ? `packer build timed out after ${Math.round(run.timeoutMs / 1000)} s and was killed`
        : reason === 'cancelled'
          ? 'packer build was cancelled and killed'
          : errorText(output) || tail(`${build.stdout}\n${build.stderr}`, 20);
    return { ok: false, stage: 'build', reason, message: mask(message), exitCode: build.code, output };
  }
  return { ok: true, output };
}

/** The last `n` lines of a text. */
export function tail(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

/** Packer's errors: each build's own (`<build>,error,...`) when it printed them, else its UI errors. */
function errorText(output: PackerOutput): string {
  const perBuild = output.errors.filter((e) => e.build);
  const chosen = perBuild.length > 0 ? perBuild : output.errors;
  return [...new Set(chosen.map((e) => (e.build ? `${e.build}: ${e.message}` : e.message)))].join('\n');
}

/** Whether an HCL2 template (a file, or a directory of them) declares `required_plugins`. */
function declaresPlugins(path: string): boolean {
  try {
    const files = statSync(path).isDirectory()
      ? readdirSync(path)
          .filter((f) => f.endsWith('.pkr.hcl'))
          .map((f) => join(path, f))
      : [path];
    return files.some((f) => /\brequired_plugins\b/.test(readFileSync(f, 'utf8')));
  } catch {
    return false;
  }
}
