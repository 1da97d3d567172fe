import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { App } from '../app.js';
import { caNamed } from '../ca/urls.js';
import { AppError } from '../errors.js';
import type { OcspAnswer } from '../revocation/ocsp.js';
import { readBody } from './body.js';

/** OCSP requests are a few hundred bytes; signed ones with a certificate a few KB. */
const MAX_OCSP_REQUEST = 64 * 1024;

/**
 * RFC 6960 Appendix A: POST with an `application/ocsp-request` body, or GET with the
 * base64 (then URL-encoded) DER request as the last path segment. The raw URL is decoded
 * here, not the route parameter: base64 holds `/` and `+`, which hosts treat differently.
 */
export async function handleOcsp(app: App, request: HttpRequest): Promise<HttpResponseInit> {
  let der: Uint8Array;
  if (request.method === 'POST') {
    der = await readBody(request, MAX_OCSP_REQUEST);
  } else {
    const path = new URL(request.url).pathname;
    const at = path.toLowerCase().indexOf('/ocsp/');
    let encoded = at < 0 ? '' : path.slice(at + '/ocsp/'.length);
    try {
      encoded = decodeURIComponent(encoded);
    } catch {
      encoded = '';
    }
    der = new Uint8Array(Buffer.from(encoded.slice(0, MAX_OCSP_REQUEST), 'base64'));
  }
  return ocspHttp(await app.revocation.ocsp.respond(der));
}

/** RFC 5019 §6: the caching headers of a response that may be cached; no-store otherwise. */
function ocspHttp(a: OcspAnswer): HttpResponseInit {
  const headers: Record<string, string> = { 'content-type': 'application/ocsp-response' };
  if (a.maxAge > 0 && a.thisUpdate && a.nextUpdate) {
    headers['cache-control'] = `max-age=${a.maxAge}, public, no-transform, must-revalidate`;
    headers['last-modified'] = httpDate(a.thisUpdate);
    headers.expires = httpDate(a.nextUpdate);
  } else {
    headers['cache-control'] = 'no-store';
  }
  return { status: 200, headers, body: a.der };
}

/** Pre-signed answers share their Date objects: format each once, not on every response. */
const httpDates = new WeakMap<Date, string>();
function httpDate(d: Date): string {
  let s = httpDates.get(d);
  if (s === undefined) {
    s = d.toUTCString();
    httpDates.set(d, s);
  }
  return s;
}

/**
 * A CA's CRL from its publisher's cache: `crl` is the configured CA's, `crl/{ca}` the CA with
 * that id (lib/ca/urls.ts), each at the CDP its certificates carry. DER (`application/pkix-crl`),
 * or PEM with `?format=pem`.
 */
export async function handleCrl(app: App, request: HttpRequest): Promise<HttpResponseInit> {
  const publisher = await app.revocation.crl(request.params.ca);
  if (!publisher) throw new AppError('NOT_FOUND', 'no CA has this id');
  const crl = await publisher.get();
  const maxAge = Math.max(0, Math.floor((crl.nextUpdate.getTime() - Date.now()) / 1000));
  const headers = {
    'cache-control': `max-age=${Math.min(maxAge, 300)}, public, no-transform`,
    'last-modified': crl.thisUpdate.toUTCString(),
    expires: crl.nextUpdate.toUTCString(),
  };
  if (request.query.get('format')?.toLowerCase() === 'pem') {
    return {
      status: 200,
      headers: { ...headers, 'content-type': 'application/x-pem-file' },
      body: pem('X509 CRL', crl.der),
    };
  }
  return { status: 200, headers: { ...headers, 'content-type': 'application/pkix-crl' }, body: crl.der };
}

/**
 * A CA certificate at the AIA caIssuers URL its certificates carry: one DER certificate (RFC
 * 5280 §4.2.2.1). `ca.cer` is the configured CA, `ca/{CA id}.cer` the CA with that id.
 */
export async function handleCaCertificate(app: App, file?: string): Promise<HttpResponseInit> {
  const id = file === undefined ? undefined : /^([0-9a-f]{40})\.cer$/i.exec(file)?.[1];
  const ca = file === undefined || id !== undefined ? caNamed(await app.cas.get(), id) : undefined;
  if (!ca) throw new AppError('NOT_FOUND', 'no CA has this id');
  return {
    status: 200,
    headers: { 'content-type': 'application/pkix-cert', 'cache-control': 'max-age=86400, public' },
    body: ca.certificateDer,
  };
}

function pem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}
