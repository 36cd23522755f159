// Bounded concurrency: an async function over a list, at most `limit` calls in flight, results in the list's order.

/** `fn` over every item with at most `limit` (≥ 1) calls in flight; the results in item order; the first throw rejects (calls already started run on). */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T, i);
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return out;
}
