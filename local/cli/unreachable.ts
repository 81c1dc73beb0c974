/**
 * What to say when a request found nothing to talk to. Node's fetch says only "fetch failed"; the
 * reason is in its cause (ECONNREFUSED and the address, a name that did not resolve, a reset).
 */
export function unreachable(error: unknown): string | undefined {
  if (!(error instanceof TypeError) || error.message !== 'fetch failed') return undefined;
  const cause = (error as { cause?: { code?: string; address?: string; port?: number; hostname?: string } })
    .cause;
  const code = cause?.code ?? '';
  const where = cause?.address ? `${cause.address}${cause.port ? `:${cause.port}` : ''}` : cause?.hostname;
  if (code === 'ECONNREFUSED') {
    return (
      `nothing answers at ${where ?? 'the URL'} (connection refused): is the local runtime running? ` +
      'Start it with npm start (fc-devops dev) in this directory, or point --url (or $FC_DEVOPS_URL) at one that runs.'
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return `the host ${where ?? ''} does not resolve (${code}): check --url`;
  return `the request failed before an answer came (${code || (cause as Error | undefined)?.message || 'no reason given'}${where ? ` at ${where}` : ''})`;
}
