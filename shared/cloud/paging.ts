/** Every item of a PageNumber/PageSize/TotalCount API, page by page. */
export async function* pagesByNumber<T>(
  fetch: (pageNumber: number) => Promise<{ items: T[]; total: number }>,
  options: { maxPages?: number } = {},
): AsyncGenerator<T> {
  let seen = 0;
  for (let page = 1; page <= (options.maxPages ?? 10_000); page++) {
    const { items, total } = await fetch(page);
    for (const item of items) yield item;
    seen += items.length;
    if (items.length === 0 || seen >= total) return;
  }
}

/** Every item of a NextToken API. */
export async function* pagesByToken<T>(
  fetch: (nextToken: string | undefined) => Promise<{ items: T[]; nextToken: string | undefined }>,
  options: { maxPages?: number } = {},
): AsyncGenerator<T> {
  let token: string | undefined;
  for (let page = 0; page < (options.maxPages ?? 10_000); page++) {
    const result = await fetch(token);
    for (const item of result.items) yield item;
    if (!result.nextToken) return;
    token = result.nextToken;
  }
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
