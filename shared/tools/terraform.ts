import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runProcess } from './process.ts';

/** One message of Terraform's machine-readable UI (`-json`): https://developer.hashicorp.com/terraform/internals/machine-readable-ui */
export interface UiMessage {
  '@level': string;
  '@message': string;
  '@timestamp': string;
  type: string;
  diagnostic?: Diagnostic;
  [key: string]: unknown;
}

export interface Diagnostic {
  severity: 'error' | 'warning';
  summary: string;
  detail?: string;
  range?: { filename: string; start: { line: number; column: number } };
}

export interface TerraformOptions {
  bin: string;
  /** The working directory (the root module). */
  dir: string;
  /** Scratch space: HOME, the CLI configuration. */
  scratch: string;
  /** Variables, backend credentials and secrets: passed through the environment, never argv. */
  env?: Record<string, string>;
  /** Provider installation without the internet. */
  providers?: { mirror?: string | undefined; pluginCacheDir?: string | undefined };
  /** Send SIGTERM (Terraform saves its state and stops) this long from now; SIGKILL only after `graceMs`. */
  deadlineMs?: number;
  graceMs?: number;
  signal?: AbortSignal;
  /** The command streams the machine-readable UI (`plan -json`, `apply -json`, `init -json`). */
  ui?: boolean;
  /** Each machine-readable message, as it arrives. */
  onMessage?: (message: UiMessage) => void;
  /** Each line that is not a machine-readable message (stderr, `show` output). */
  onText?: (line: string) => void;
}

export interface TerraformResult {
  code: number | null;
  /** Terraform was stopped before it finished (our deadline, or a cancellation). */
  interrupted: boolean;
  stdout: string;
  /** Error diagnostics, each as `file:line:column: summary: detail`. */
  errors: string[];
}

/**
 * The CLI configuration every run gets: no checkpoint calls, and providers from a filesystem
 * mirror (a layer) when one is configured, so functions in a VPC never need the registry.
 */
export function cliConfig(providers: TerraformOptions['providers'] = {}): string {
  const lines = ['disable_checkpoint = true'];
  if (providers.pluginCacheDir) lines.push(`plugin_cache_dir = ${JSON.stringify(providers.pluginCacheDir)}`);
  if (providers.mirror)
    lines.push(
      'provider_installation {',
      `  filesystem_mirror {\n    path = ${JSON.stringify(providers.mirror)}\n  }`,
      '}',
    );
  return `${lines.join('\n')}\n`;
}

/** A diagnostic as one line that says where: `main.tf:3:1: Unclosed configuration block: …`. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.range ? `${d.range.filename}:${d.range.start.line}:${d.range.start.column}: ` : '';
  const detail = d.detail ? `: ${d.detail.replace(/\s+/g, ' ').trim()}` : '';
  return `${where}${d.summary.replace(/\s+/g, ' ').trim()}${detail}`;
}

/**
 * Run the real terraform binary in its own process group: machine-readable messages are parsed as
 * they stream, error diagnostics collected with file and line. At the deadline Terraform gets
 * SIGTERM (it persists its state and exits) and only after `graceMs` SIGKILL.
 */
export async function runTerraform(args: string[], options: TerraformOptions): Promise<TerraformResult> {
  const config = join(options.scratch, 'terraform.rc');
  writeFileSync(config, cliConfig(options.providers));
  const errors: string[] = [];
  const stdout: string[] = [];
  const result = await runProcess(options.bin, args, {
    cwd: options.dir,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      // Provisioners run with the function's own HOME (rabbitmqctl finds its Erlang cookie there).
      HOME: process.env.HOME ?? options.scratch,
      TF_CLI_CONFIG_FILE: config,
      TF_IN_AUTOMATION: '1',
      TF_INPUT: '0',
      CHECKPOINT_DISABLE: '1',
      ...(options.providers?.pluginCacheDir ? { TF_PLUGIN_CACHE_DIR: options.providers.pluginCacheDir } : {}),
      ...options.env,
    },
    ...(options.deadlineMs !== undefined ? { timeoutMs: Math.max(1, options.deadlineMs) } : {}),
    graceMs: options.graceMs ?? 30_000,
    ...(options.signal ? { signal: options.signal } : {}),
    onStdout: (line) => {
      if (options.ui && line.startsWith('{')) {
        try {
          const message = JSON.parse(line) as UiMessage;
          if (message.type === 'diagnostic' && message.diagnostic?.severity === 'error')
            errors.push(formatDiagnostic(message.diagnostic));
          options.onMessage?.(message);
          return;
        } catch {}
      }
      stdout.push(line);
      options.onText?.(line);
    },
    onStderr: (line) => options.onText?.(line),
  });
  return {
    code: result.code,
    interrupted: result.killed !== undefined,
    stdout: stdout.join('\n'),
    errors,
  };
}
