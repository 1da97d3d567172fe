import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { getApp, type App } from '../app.js';
import { jsonLogger } from '../log.js';
import { errorResponse } from './errors.js';
import './streaming.js';

const bootLogger = jsonLogger();

/**
 * Wrap a function body: resolve the worker's App (a settings error becomes a 503 whose log
 * lists every bad setting, while the caller sees no internals) and map anything thrown.
 */
export function httpHandler(
  fn: (app: App, request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>,
  /** errorResponse, or problemResponse (RFC 9457) for the management API. */
  mapError: typeof errorResponse = errorResponse,
): HttpHandler {
  return async (request, context) => {
    let app: App;
    try {
      app = await getApp();
    } catch (e) {
      return mapError(e, bootLogger, { function: context.functionName, phase: 'startup' });
    }
    try {
      return await fn(app, request, context);
    } catch (e) {
      return mapError(e, app.logger, { function: context.functionName });
    }
  };
}
