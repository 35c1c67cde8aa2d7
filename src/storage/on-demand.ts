/**
 * Prepares each query the first time it is used. An object prepares its statements once, but
 * there are thousands of objects in memory and most (a room whose sockets only joined) use few.
 */
export function onDemand<T extends Record<string, () => unknown>>(
  builders: T,
): { readonly [K in keyof T]: ReturnType<T[K]> } {
  const built = new Map<keyof T, unknown>();
  const queries = {} as { [K in keyof T]: ReturnType<T[K]> };
  for (const key of Object.keys(builders) as (keyof T)[]) {
    Object.defineProperty(queries, key, {
      get: () => {
        if (!built.has(key)) built.set(key, builders[key]?.());
        return built.get(key);
      },
    });
  }
  return queries;
}
