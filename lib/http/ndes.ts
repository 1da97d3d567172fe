import { createHash } from 'node:crypto';
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { App } from '../app.js';
import { ndesChallenge, ndesPage } from '../endpoints/ndes.js';
import { ONE_TIME_DEFAULT_MINUTES } from '../model/account.js';
import { errorResponse } from './errors.js';

/** Adapt `GET certsrv/mscep_admin/` and `GET scep/{name}/mscep_admin/` to the NDES page. */
export async function handleNdesPage(
  app: App,
  request: HttpRequest,
  endpoint: string | undefined,
): Promise<HttpResponseInit> {
  try {
    const r = await ndesChallenge(app.manage, request.headers.get('authorization'), endpoint);
    // NDES shows the MD5 hash of the CA certificate; SHA-256 here (no MDM checks it).
    const { active } = await app.cas.get();
    const thumbprint = createHash('sha256').update(active.certificateDer).digest('hex');
    app.logger.info('NDES challenge issued', { endpoint: r.endpoint, expiresAt: r.expiresAt });
    return {
      status: 200,
      headers: { 'content-type': 'text/html; charset=utf-16le', 'cache-control': 'no-store' },
      body: ndesPage(r.challenge, thumbprint, ONE_TIME_DEFAULT_MINUTES),
    };
  } catch (e) {
    return errorResponse(e, app.logger, { endpoint, page: 'mscep_admin' });
  }
}
