import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { App } from '../app.js';
import { rawQueryParam } from '../scep/base64.js';
import { readBody } from './body.js';
import { errorResponse } from './errors.js';

/** Adapt a Functions HTTP request to the SCEP service and back. */
export async function handleScep(
  app: App,
  request: HttpRequest,
  endpoint: string,
  o: { readonly caWithoutEndpoint?: boolean } = {},
): Promise<HttpResponseInit> {
  try {
    const max = app.settings.core.maxBodyBytes;
    const body = request.method === 'POST' ? await readBody(request, max) : new Uint8Array(0);
    const res = await app.scep.handle(
      endpoint,
      {
        method: request.method,
        operation: request.query.get('operation') ?? undefined,
        contentType: request.headers.get('content-type') ?? undefined,
        rawMessage: rawQueryParam(request.url, 'message'),
        body,
        maxMessageBytes: max,
      },
      o,
    );
    return { status: res.status, headers: { 'content-type': res.contentType }, body: res.body };
  } catch (e) {
    return errorResponse(e, app.logger, { endpoint, operation: request.query.get('operation') });
  }
}
