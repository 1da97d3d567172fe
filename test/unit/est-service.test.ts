import 'reflect-metadata';
import { AsnParser } from '@peculiar/asn1-schema';
import { ContentInfo, SignedData } from '@peculiar/asn1-cms';
import { beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../lib/errors.js';
import { base64CertsOnly } from '../../lib/est/pkcs7.js';
import { handleEst, type EstDeps, type EstRequest } from '../../lib/est/service.js';
import { staticEndpoint } from '../../lib/endpoints/static.js';
import { makeCa, type TestCa } from '../fakes/rest-pki.js';

/** The EST dispatcher without HTTP: operations, labels, methods, framing. */

let ca: TestCa;
let root: TestCa;
beforeAll(async () => {
  [ca, root] = await Promise.all([makeCa('CN=Issuing CA'), makeCa('CN=Root CA')]);
});

const STATIC = staticEndpoint(
  {
    enabled: true,
    requestPassword: 'secret',
    validityDays: 30,
    keyUsage: ['DigitalSignature'],
    ekus: [],
    allowRenewals: true,
    revokeSuperseded: false,
    enableCertificateStorage: true,
  },
  'auto',
);

const deps = (): EstDeps => ({
  caChainDer: [ca.der, root.der],
  endpoint: (name) => Promise.resolve(name === 'static' ? STATIC : undefined),
  // No client-certificate header configured: re-enrollment under a label is not served.
  atEndpoint: {
    enrollment: {
      enroll: () => Promise.reject(new Error('not reached')),
      deliver: () => Promise.reject(new Error('not reached')),
    },
    clientCertificates: undefined,
    realm: 'test',
    now: () => new Date(),
  },
  rest: undefined, // the REST API is off: only cacerts and csrattrs answer
  issue: {} as EstDeps['issue'],
});

const request = (method: string, path: string): EstRequest => ({
  method,
  path,
  headers: new Headers(),
  readBody: () => Promise.resolve(new Uint8Array()),
});

async function code(p: Promise<unknown>): Promise<string> {
  const e: unknown = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  return isAppError(e) ? e.code : `not an AppError: ${String(e)}`;
}

describe('EST framing (RFC 7030 §4.1.3, §4.2.3)', () => {
  it('ok/base64 in 64-character CRLF lines of a certs-only SignedData with every certificate', () => {
    const body = base64CertsOnly([ca.der, root.der]);
    const lines = body.split('\r\n');
    expect(lines.slice(0, -1).every((l) => l.length === 64)).toBe(true);
    expect(lines.at(-1)?.length).toBeLessThanOrEqual(64);
    const ci = AsnParser.parse(Buffer.from(body, 'base64'), ContentInfo);
    const sd = AsnParser.parse(ci.content, SignedData);
    expect(sd.certificates?.length).toBe(2);
    expect(sd.signerInfos.length).toBe(0);
  });

  // Regression: a trailing line break becomes an empty line before "-----END PKCS7-----" in
  // SCEPman's script, and OpenSSL 3 then cannot load the PKCS#7.
  it('ok/no line break after the last line', () => {
    expect(base64CertsOnly([ca.der])).not.toMatch(/[\r\n]$/);
  });
});

describe('EST dispatcher', () => {
  it('ok/cacerts answers the chain as base64 application/pkcs7-mime, with or without a known label', async () => {
    for (const path of ['cacerts', 'static/cacerts', 'api/cacerts', 'STATIC/CACERTS']) {
      const r = await handleEst(deps(), request('GET', path));
      expect(r.status).toBe(200);
      expect(r.headers).toEqual({
        'content-type': 'application/pkcs7-mime',
        'content-transfer-encoding': 'base64',
      });
      expect(r.body).toBe(base64CertsOnly([ca.der, root.der]));
    }
  });

  it('ok/csrattrs answers 204 without a body', async () => {
    expect(await handleEst(deps(), request('GET', 'csrattrs'))).toEqual({ status: 204, headers: {} });
  });

  it('fail/unknown operations (fullcmc, serverkeygen, anything) are NOT_FOUND', async () => {
    for (const path of ['fullcmc', 'serverkeygen', '', 'static', 'a/b/cacerts']) {
      expect(await code(handleEst(deps(), request('POST', path)))).toBe('NOT_FOUND');
    }
  });

  it('fail/a label that names no endpoint is UNKNOWN_ENDPOINT', async () => {
    expect(await code(handleEst(deps(), request('GET', 'nowhere/cacerts')))).toBe('UNKNOWN_ENDPOINT');
  });

  it('fail/the wrong method is METHOD_NOT_ALLOWED', async () => {
    expect(await code(handleEst(deps(), request('POST', 'cacerts')))).toBe('METHOD_NOT_ALLOWED');
    expect(await code(handleEst(deps(), request('GET', 'simpleenroll')))).toBe('METHOD_NOT_ALLOWED');
  });

  it('fail/enrollment with the REST API off, or re-enrollment under a label without a client-certificate header, is NOT_FOUND', async () => {
    expect(await code(handleEst(deps(), request('POST', 'simpleenroll')))).toBe('NOT_FOUND');
    expect(await code(handleEst(deps(), request('POST', 'simplereenroll')))).toBe('NOT_FOUND');
    expect(await code(handleEst(deps(), request('POST', 'static/simplereenroll')))).toBe('NOT_FOUND');
  });
});
