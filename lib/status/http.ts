import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { X509Certificate } from 'node:crypto';
import type { App } from '../app.js';
import { listEndpoints } from '../endpoints/manage.js';
import { probe } from '../probe.js';
import { renderStatusPage } from './html.js';
import { statusModel, type StatusEndpoint, type StatusRaCertificate } from './model.js';
import { AppError } from '../errors.js';
import { urlIdOf } from '../ca/urls.js';

/** The status page's and PEM downloads' HTTP adapter (`/`, `/ca.pem`, `/ca-chain.pem`). */
export async function statusPage(app: App, request: HttpRequest): Promise<HttpResponseInit> {
  const cas = await app.cas.get();
  const model = await statusModel({
    baseUrl: app.settings.core.baseUrl ?? new URL(request.url).origin,
    caDer: cas.active.certificateDer,
    chainDer: cas.active.chainDer,
    caUrlId: urlIdOf(cas, cas.active),
    endpoints: () => enabledEndpoints(app),
    checks: async () => (await probe(app)).checks,
    raCertificates: (eps) => liveRaCertificates(app, eps),
    revocation: true,
    intuneEnabled: app.settings.intune.enabled,
  });
  return {
    status: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'content-security-policy':
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'",
    },
    body: renderStatusPage(model),
  };
}

const PEM = 'application/x-pem-file';

/** `ca.pem` and `ca-chain.pem` of the issuing CA (the CA first, then the certificates above it). */
export async function caFile(app: App, file: string): Promise<HttpResponseInit> {
  const { active: ca } = await app.cas.get();
  const pem = (der: Uint8Array): string => new X509Certificate(der).toString();
  const chain = file.toLowerCase() === 'ca-chain.pem';
  return {
    headers: {
      'content-type': PEM,
      'content-disposition': `attachment; filename="${chain ? 'ca-chain.pem' : 'ca.pem'}"`,
    },
    body: (chain ? [ca.certificateDer, ...ca.chainDer] : [ca.certificateDer]).map(pem).join(''),
  };
}

async function enabledEndpoints(app: App): Promise<Omit<StatusEndpoint, 'url'>[]> {
  const out: Omit<StatusEndpoint, 'url'>[] = [];
  let token: string | undefined;
  do {
    const page = await listEndpoints(app.manage, {
      top: 200,
      ...(token ? { continuationToken: token } : {}),
    });
    for (const e of page.items)
      if (e.enabled)
        out.push({ name: e.name, displayName: e.displayName, type: e.type, ra: e.ra?.enabled ?? false });
    token = page.continuationToken;
  } while (token !== undefined && out.length < 1000);
  return out;
}

/** The current and overlapping (not expired) RA certificates of the RA-mode endpoints. */
async function liveRaCertificates(
  app: App,
  eps: readonly Omit<StatusEndpoint, 'url'>[],
): Promise<Omit<StatusRaCertificate, 'url'>[]> {
  const lists = await Promise.all(
    eps.filter((e) => e.ra === true).map(async (e) => ({ e, certs: await app.ra.list(e.name) })),
  );
  return lists.flatMap(({ e, certs }) =>
    certs
      .filter((c) => c.status !== 'expired')
      .map((c) => ({
        endpoint: e.name,
        subject: c.subject,
        notAfter: c.notAfter,
        sha256: c.thumbprintSha256,
      })),
  );
}

/** `ra/{endpoint}.pem`: an RA-mode endpoint's live RA certificates (public, as GetCACert is). */
export async function raFile(app: App, file: string): Promise<HttpResponseInit> {
  const name = file.replace(/\.pem$/i, '');
  const certs = /^[a-z0-9-]{1,64}$/i.test(name) ? await app.ra.list(name) : [];
  const live = certs.filter((c) => c.status !== 'expired');
  if (live.length === 0) throw new AppError('NOT_FOUND', `no RA certificate for '${name}'`);
  return {
    headers: { 'content-type': PEM, 'content-disposition': `attachment; filename="ra-${name}.pem"` },
    body: live.map((c) => new X509Certificate(Buffer.from(c.der, 'base64')).toString()).join(''),
  };
}
