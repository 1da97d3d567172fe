import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnParser } from '@peculiar/asn1-schema';
import { CertificateList } from '@peculiar/asn1-x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../lib/app.js';
import { silentLogger } from '../../lib/log.js';
import type { CrlPublisher } from '../../lib/revocation/crl-publisher.js';
import { startTestCosmos, type TestCosmos } from '../fakes/cosmos.js';
import { ocspRequest, readOcspResponse } from '../helpers/revocation.js';
import { testRecord } from '../unit/store-contract.js';

/**
 * Two instances of the app (two composition roots, as two Functions hosts would build them)
 * sharing one Cosmos DB store and one CA: a revocation through one is answered `revoked` by
 * the other's OCSP responder within 5 s, although that one had a good answer cached.
 */
let cosmos: TestCosmos;
let dir: string;
let a: App;
let b: App;

beforeAll(async () => {
  cosmos = await startTestCosmos();
  dir = await mkdtemp(join(tmpdir(), 'revocation-instances-'));
  const s = cosmos.settings();
  const env = {
    AppConfig__DataDir: dir,
    AppConfig__StaticValidation__RequestPassword: 'test-challenge-1',
    AppConfig__CosmosDb__Endpoint: s.endpoint!,
    AppConfig__CosmosDb__Key: s.key!,
    AppConfig__CosmosDb__DatabaseName: s.databaseName,
  };
  a = await createApp(env, { logger: silentLogger });
  b = await createApp(env, { logger: silentLogger });
});
afterAll(async () => {
  a.revocation.close();
  b.revocation.close();
  await cosmos.close();
  await rm(dir, { recursive: true, force: true });
});

describe('revocation across instances sharing one store', () => {
  it('ok/revoked through one instance, OCSP through the other says revoked within 5 s and its CRL lists it', async () => {
    const created = await a.store.create(
      testRecord(1, { issuer: a.issuer.caName, notAfter: new Date(Date.now() + 86_400_000).toISOString() }),
    );
    if (!created.created) throw new Error('not created');
    const serial = created.record.serialNumber;
    const req = ocspRequest(a.ca.certificateDer, [serial]);
    expect(readOcspResponse((await b.revocation.ocsp.respond(req)).der).answers[0]?.state).toBe('good');
    const crlBefore = await configuredCrl(b);

    await a.revocation.service.revoke({ serial, reason: 'keyCompromise', actor: 'test' });
    const revokedAt = performance.now();
    let state = 'good';
    while (state !== 'revoked' && performance.now() - revokedAt < 10_000) {
      state = readOcspResponse((await b.revocation.ocsp.respond(req)).der).answers[0]?.state ?? 'none';
      if (state !== 'revoked') await new Promise((r) => setTimeout(r, 100));
    }
    const elapsed = performance.now() - revokedAt;
    expect(state).toBe('revoked');
    expect(elapsed).toBeLessThan(5000);

    const crl = await configuredCrl(b);
    expect(crl.crlNumber).toBeGreaterThan(crlBefore.crlNumber);
    const listed = AsnParser.parse(crl.der, CertificateList).tbsCertList.revokedCertificates ?? [];
    expect(listed.map((r) => Buffer.from(r.userCertificate).toString('hex'))).toContain(serial);
  });
});

/** The configured CA's CRL (`/crl`). */
async function configuredCrl(app: App): ReturnType<CrlPublisher['get']> {
  const publisher = await app.revocation.crl();
  if (!publisher) throw new Error('the configured CA has no CRL publisher');
  return publisher.get();
}
