export interface HealthCheck {
  url: string;
  expectStatus: number;
  maxLatencyMs: number;
  passes: number;
  intervalSeconds: number;
}

/**
 * Probe each check `passes` times in a row: every probe must answer the expected status within the
 * latency budget. The first failure ends the check with its reason.
 */
export async function runHealthChecks(
  checks: HealthCheck[],
  deps: { fetch?: typeof fetch; sleep?: (ms: number) => Promise<void> } = {},
): Promise<{ ok: boolean; reason?: string; probes: number }> {
  const sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  let probes = 0;
  for (const check of checks) {
    for (let i = 0; i < check.passes; i++) {
      if (i > 0) await sleep(check.intervalSeconds * 1000);
      probes++;
      const started = performance.now();
      let status: number;
      try {
        const response = await (deps.fetch ?? fetch)(check.url, {
          signal: AbortSignal.timeout(check.maxLatencyMs * 2),
        });
        status = response.status;
        await response.arrayBuffer();
      } catch (error) {
        return { ok: false, probes, reason: `${check.url} did not answer (${(error as Error).message})` };
      }
      const latency = Math.round(performance.now() - started);
      if (status !== check.expectStatus)
        return {
          ok: false,
          probes,
          reason: `${check.url} answered ${status}, expected ${check.expectStatus}`,
        };
      if (latency > check.maxLatencyMs)
        return {
          ok: false,
          probes,
          reason: `${check.url} took ${latency} ms, more than ${check.maxLatencyMs}`,
        };
    }
  }
  return { ok: true, probes };
}
