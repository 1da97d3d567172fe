import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import azf, { type HttpResponseInit } from '@azure/functions';
import { AsnParser } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csr as csrHandler } from '../../functions/csr.js';
import { est } from '../../functions/est.js';
import { createApp, setApp, type App } from '../../lib/app.js';
import { createAccount } from '../../lib/endpoints/accounts.js';
import { createEndpoint } from '../../lib/endpoints/manage.js';
import { silentLogger } from '../../lib/log.js';
import { MessageType, PKIStatus } from '../../lib/scep/types.js';
import { MemoryDocumentStore } from '../../lib/store/documents-memory.js';
import { ecKey, makeCert, makeCsr, rsaKey } from '../helpers/pki.js';
import { buildPkiMessage, readCertRep } from '../helpers/scep-client.js';

/**
 * A renewal over mutual TLS (`POST api/csr`, EST simplereenroll without a label) re-issues a
 * stored endpoint's certificate with that endpoint's profile, so it must also meet that
 * endpoint's key rules: an endpoint that requires RSA 3072 (or RSA only) does not get a
 * certificate for a 2048-bit or EC key through the REST door.
 */

let dataDir: string;
let app: App;
let ca: Certificate;
const strongKey = rsaKey(3072, 'renewal-key-policy');

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'renewal-key-policy-'));
  app = await createApp(
    {
      AppConfig__DataDir: dataDir,
      AppConfig__StaticValidation__RequestPassword: 'static-secret',
      AppConfig__DbCSRValidation__Enabled: 'true',
      AppConfig__AuthConfig__TenantId: '0c6f3b2a-1d4e-4f5a-8b9c-0d1e2f3a4b5c',
      AppConfig__AuthConfig__ApplicationId: '6a1c2b3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d',
      // Tokens are not used here; the key set address only has to be valid.
      AppConfig__DbCSRValidation__JwksUrl: 'http://127.0.0.1:9/keys',
      AppConfig__DbCSRValidation__AllowRenewals: 'true',
      AppConfig__DbCSRValidation__ClientCertificateHeader: 'X-ARR-ClientCert',
      AppConfig__DbCSRValidation__ReenrollmentAllowedCertificateTypes: 'Account,Renewal',
    },
    { logger: silentLogger, documents: new MemoryDocumentStore() },
  );
  setApp(Promise.resolve(app));
  ca = AsnParser.parse(app.ca.certificateDer, Certificate);
  await createEndpoint(app.manage, {
    name: 'strict',
    type: 'device-scep',
    profile: { key: { rsaMinBits: 3072, ecCurves: [] } },
  });
});
afterAll(() => {
  setApp(undefined);
  rmSync(dataDir, { recursive: true, force: true });
});

/** A certificate of `strict`, enrolled over SCEP with a 3072-bit key and an account challenge. */
async function strictCertificate(cn: string): Promise<Uint8Array> {
  const account = await createAccount(app.manage, 'strict', { name: cn });
  if (!('challenge' in account)) throw new Error('expected a challenge');
  const signer = await makeCert({ key: strongKey, subject: 'CN=SCEP SIGNER' });
  const csr = await makeCsr({ key: strongKey, subject: `CN=${cn}`, challenge: account.challenge });
  const signed = { signerKey: strongKey, signerCert: signer.cert, recipients: [ca] };
  const body = buildPkiMessage({
    ...signed,
    messageType: MessageType.PKCSReq,
    transactionId: cn,
    content: csr,
  });
  const res = await app.scep.handle('strict', {
    method: 'POST',
    operation: 'PKIOperation',
    rawMessage: undefined,
    body,
  });
  const rep = await readCertRep(res.body as Uint8Array, strongKey, signer.cert);
  expect(rep.status, rep.failInfoText).toBe(PKIStatus.SUCCESS);
  return new Uint8Array(rep.certificates[0]!.raw);
}

function post(path: 'csr' | 'est', cert: Uint8Array, body: Uint8Array): Promise<HttpResponseInit> {
  const request = new azf.HttpRequest({
    method: 'POST',
    url: path === 'csr' ? 'http://127.0.0.1/api/csr' : 'http://127.0.0.1/.well-known/est/simplereenroll',
    headers: {
      'content-type': 'application/pkcs10',
      'x-arr-clientcert': Buffer.from(cert).toString('base64'),
    },
    params: path === 'csr' ? {} : { rest: 'simplereenroll' },
    body: { bytes: body },
  });
  const handler = path === 'csr' ? csrHandler : est;
  return handler(request, new azf.InvocationContext({ functionName: path })) as Promise<HttpResponseInit>;
}

describe('renewal over mTLS applies the key rules of the endpoint that issued the certificate', () => {
  it('ok/a key the endpoint accepts renews', async () => {
    const cert = await strictCertificate('strict-ok');
    const r = await post(
      'csr',
      cert,
      await makeCsr({ key: rsaKey(3072, 'renewal-key-policy-new'), subject: 'CN=x' }),
    );
    expect(r.status).toBe(200);
  });

  it.each([
    ['api/csr', 'RSA 2048', 'csr', () => rsaKey(2048, 'renewal-key-policy-weak'), /key-too-small/],
    ['api/csr', 'EC P-256', 'csr', () => ecKey('P-256'), /curve-not-allowed/],
    ['EST simplereenroll', 'RSA 2048', 'est', () => rsaKey(2048, 'renewal-key-policy-weak'), /key-too-small/],
  ] as const)(
    'fail/%s with a %s key → 400 POLICY_REJECTED, nothing issued',
    async (_, kind, path, key, reason) => {
      const cert = await strictCertificate(`strict-${path}-${kind.replace(/\W/g, '')}`);
      const before = (await app.store.search({ limit: 1000 })).items.length;
      const r = await post(path, cert, await makeCsr({ key: key(), subject: 'CN=x' }));
      expect(r.status).toBe(400);
      expect(JSON.stringify(r.jsonBody ?? r.body)).toMatch(reason);
      expect((await app.store.search({ limit: 1000 })).items.length).toBe(before);
    },
  );
});
