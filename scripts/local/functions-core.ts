import { createRequire } from 'node:module';

/**
 * Stand-in for `@azure/functions-core`, the module the real Functions Node worker provides to
 * `@azure/functions`. With it installed, every `app.http(...)`/`app.storageQueue(...)` call hands
 * us the exact binding metadata the Functions host would get (route, methods, queue name…),
 * so the local host serves the same routes as `func start` without the host itself.
 */
export interface Registration {
  readonly metadata: {
    readonly name: string;
    readonly bindings: Record<string, { type: string; direction: string; [key: string]: unknown }>;
  };
  readonly handler: (...args: unknown[]) => unknown;
}

export const registrations: Registration[] = [];

const shim = {
  registerFunction(metadata: Registration['metadata'], handler: Registration['handler']) {
    registrations.push({ metadata, handler });
    return { dispose: () => undefined };
  },
  setProgrammingModel: () => undefined,
  getProgrammingModel: () => undefined,
  registerHook: () => ({ dispose: () => undefined }),
  log: () => undefined,
  Disposable: class {
    dispose(): void {
      /* nothing to release */
    }
  },
};

let installed = false;

/** Must run before `@azure/functions` is first loaded. */
export function installFunctionsCoreShim(): void {
  if (installed) return;
  installed = true;
  const require = createRequire(import.meta.url);
  const Module = require('node:module') as { _load: (request: string, ...rest: unknown[]) => unknown };
  const original = Module._load;
  Module._load = function (request: string, ...rest: unknown[]) {
    if (request === '@azure/functions-core') return shim;
    return original.call(this, request, ...rest);
  };
}
