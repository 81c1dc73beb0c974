// What every Terraform run of the function shares: its time budget, its log, how a failure reads.
import type { HandlerContext } from '../../shared/runtime/define-handler.ts';
import type { RunLog } from '../../shared/runtime/run-log.ts';

/** Stop Terraform this long before FC's own timeout, so it saves its state and the run records why. */
export const MARGIN_MS = 60_000;

/** Time `terraform` may take in this invocation: the function's timeout less the margin. */
export const budgetMs = (ctx: HandlerContext) => Math.max(10_000, ctx.fc.function.timeout * 1000 - MARGIN_MS);

/** A run's log lines: Terraform's machine-readable messages as `<time> <message>`, the rest as they come. */
export function terraformLog(log: RunLog) {
  return {
    onMessage: (m: { '@timestamp': string; '@message': string }) =>
      log.line(`${m['@timestamp']} ${m['@message'].replace(/\n+/g, ' ')}`),
    onText: (line: string) => log.line(line),
  };
}

/** Terraform's error diagnostics (file and line), or the exit status. */
export function failure(
  what: string,
  r: { code: number | null; interrupted: boolean; errors: string[] },
): string {
  if (r.interrupted) return `${what} was stopped before the function's timeout`;
  return r.errors.length ? `${what} failed: ${r.errors.slice(0, 3).join('; ')}` : `${what} exited ${r.code}`;
}
