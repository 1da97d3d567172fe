import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { App } from '../app.js';
import { handleEst } from '../est/service.js';
import { readBody } from './body.js';
import { textErrorResponse } from './errors.js';

/** Adapt a Functions HTTP request to EST (lib/est); errors as short text (RFC 7030 §4.2.3). */
export async function handleEstRequest(app: App, request: HttpRequest): Promise<HttpResponseInit> {
  const path = request.params.rest ?? '';
  try {
    const { active: ca, issuer } = await app.cas.get();
    const res = await handleEst(
      {
        caChainDer: [ca.certificateDer, ...ca.chainDer],
        endpoint: (name) => app.endpoints.resolve(name),
        atEndpoint: app.estAtEndpoint,
        rest: app.rest,
        issue: { enrollment: app.enrollment, issuer, chainDer: ca.chainDer },
      },
      {
        method: request.method,
        path,
        headers: request.headers,
        readBody: () => readBody(request, app.settings.core.maxBodyBytes),
      },
    );
    return res.body === undefined
      ? { status: res.status, headers: res.headers }
      : { status: res.status, headers: res.headers, body: res.body };
  } catch (e) {
    return textErrorResponse(e, app.logger, { est: path.slice(0, 80) });
  }
}
