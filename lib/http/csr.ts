import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { App } from '../app.js';
import { AppError } from '../errors.js';
import { enrollRest } from '../rest/enroll.js';
import { readBody } from './body.js';

/** Adapt a Functions HTTP request to the REST enrollment use case. */
export async function handleCsr(app: App, request: HttpRequest): Promise<HttpResponseInit> {
  const rest = app.rest;
  if (!rest)
    throw new AppError(
      'NOT_FOUND',
      'the REST enrollment API is not enabled (AppConfig__DbCSRValidation__Enabled)',
    );
  const { active: ca, issuer } = await app.cas.get();
  const out = await enrollRest(
    rest,
    { enrollment: app.enrollment, issuer, chainDer: ca.chainDer },
    {
      headers: request.headers,
      readBody: () => readBody(request, app.settings.core.maxBodyBytes),
      accept: request.headers.get('accept'),
      chain: request.query.get('chain'),
    },
  );
  return { status: 200, headers: { 'content-type': out.contentType }, body: out.body };
}
