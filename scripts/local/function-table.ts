import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Functions from '@azure/functions';
import type { HttpRoute } from './dispatch.js';
import { registrations } from './functions-core.js';
import { compileRoute } from './routes.js';
import { root } from './settings.js';

/**
 * The functions of functions/ as the local host serves them: loaded once per process (each
 * module registers itself through the functions-core shim), routed by host.json's routePrefix
 * and each function's own route, and invoked by name with a fresh InvocationContext.
 */

const functionsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'functions');

let functionsLoaded = false;
export async function loadFunctions(): Promise<void> {
  if (functionsLoaded) return;
  functionsLoaded = true;
  const ts = import.meta.url.endsWith('.ts');
  for (const f of readdirSync(functionsDir).sort()) {
    if ((ts && f.endsWith('.ts') && !f.endsWith('.d.ts')) || (!ts && f.endsWith('.js'))) {
      await import(pathToFileURL(join(functionsDir, f)).href);
    }
  }
}

/** Every HTTP-triggered function with its route template and methods. */
export function httpRoutes(): HttpRoute[] {
  const prefix = routePrefix();
  return registrations.flatMap((r) => {
    const trigger = Object.values(r.metadata.bindings).find((b) => b.type === 'httpTrigger');
    if (!trigger) return [];
    const route = typeof trigger.route === 'string' ? trigger.route : r.metadata.name;
    const methods = Array.isArray(trigger.methods)
      ? (trigger.methods as string[]).map((m) => m.toUpperCase())
      : [];
    return [{ reg: r, route, methods, compiled: compileRoute(prefix, route) }];
  });
}

export type Invoke = (
  functionName: string,
  args: unknown[],
  triggerMetadata?: Record<string, unknown>,
) => Promise<unknown>;

/** Run a registered function by name, as the Functions host does for queue, timer and warmup triggers. */
export function invoker(InvocationContext: typeof Functions.InvocationContext): Invoke {
  return async (functionName, args, triggerMetadata = {}) => {
    const reg = registrations.find((r) => r.metadata.name === functionName);
    if (!reg) throw new Error(`no function ${functionName}`);
    const context = new InvocationContext({
      functionName,
      invocationId: randomUUID(),
      triggerMetadata,
    });
    // async: an unknown name or a handler that throws synchronously becomes a rejection.
    return await reg.handler(...args, context);
  };
}

export interface HostJson {
  extensions?: {
    http?: { routePrefix?: string };
    queues?: { maxDequeueCount?: number; visibilityTimeout?: string };
  };
}

export function readHostJson(): HostJson {
  return JSON.parse(readFileSync(join(root, 'host.json'), 'utf8')) as HostJson;
}

function routePrefix(): string {
  return (readHostJson().extensions?.http?.routePrefix ?? 'api').replace(/^\/+|\/+$/g, '');
}
