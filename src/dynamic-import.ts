/**
 * import() of a module found at run time: an optional package of the service (fastify, bullmq,
 * pg ...) or a user's command file. The CLI bundle runs inside a vm.Script so it can use V8's
 * code cache (bin/load-bundle.js), and Node 20 refuses import() there; the loader hands in its own
 * import as `globalThis.__vaatImport`. Everywhere else (the library, tsc's output) this is import().
 */
type Importer = (specifier: string) => Promise<unknown>;

export function importModule<T = unknown>(specifier: string): Promise<T> {
  const hook = (globalThis as { __vaatImport?: Importer }).__vaatImport;
  return (hook ? hook(specifier) : import(specifier)) as Promise<T>;
}
