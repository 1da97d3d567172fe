import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageType, PKIStatus } from '../../lib/scep/types.js';
import { startTestCosmos, type TestCosmos } from '../fakes/cosmos.js';
import { startTestHost } from '../helpers/host.js';
import { ecKey, makeCsr } from '../helpers/pki.js';
import { snapshotProcessEnv } from '../helpers/process-env.js';
import { buildPkiMessage, readCertRep } from '../helpers/scep-client.js';
import { postPkiOperation, recordsForTransaction, selfSignedClient } from '../helpers/scep-flow.js';
import { testRecord } from '../unit/store-contract.js';

/**
 * Regression tests for defects found while testing the Key Vault CA and the Cosmos DB store
 * end to end: csrSha256 lost on read (identical re-sends got a second certificate), and a
 * closed local host leaking its settings into the next one.
 */

describe('Cosmos DB store: csrSha256 survives a read back', () => {
  let cosmos: TestCosmos;
  beforeAll(async () => {
    cosmos = await startTestCosmos();
  });
  afterAll(async () => {
    await cosmos.close();
  });

  // lib/store/cosmos-schema.ts `certificateDocument` (the zod object read by
  // fromCertificateDocument / fromClaimDocument) has no `csrSha256`, so zod strips it on read.
  it('returns the csrSha256 it was given from getByTransactionKey and getBySerial', async () => {
    const store = cosmos.createStore();
    const csrSha256 = createHash('sha256').update('a csr').digest('hex');
    const record = testRecord(1, { csrSha256 });
    await store.create(record);
    expect((await store.getByTransactionKey(record.transactionKey!))?.csrSha256).toBe(csrSha256);
    expect((await store.getBySerial(record.serialNumber))?.csrSha256).toBe(csrSha256);
  });
});

describe('SCEP on the Cosmos store: an identical re-send gets the same certificate', () => {
  // Consequence of the defect above: EnrollmentService.resolveTransaction (lib/enroll/service.ts)
  // compares primary.csrSha256 (undefined) with the CSR's digest, takes the re-send for "same key,
  // another CSR", and issues and records a new certificate (DESIGN decision 4 broken).
  it('answers the same PKCSReq twice with the same certificate and keeps one record', async () => {
    const restoreEnv = snapshotProcessEnv();
    const host = await startTestHost({}, { store: 'cosmos' });
    try {
      const signer = await selfSignedClient('found-bugs-resend');
      const csr = await makeCsr({ key: ecKey('P-256'), subject: 'CN=resend', challenge: 'test-challenge-1' });
      const msg = buildPkiMessage({
        messageType: MessageType.PKCSReq,
        transactionId: 'found-bugs-resend',
        content: csr,
        recipients: [host.ca],
        signerKey: signer.key,
        signerCert: signer.signer.cert,
      });
      const a = await readCertRep(await postPkiOperation(host, msg), signer.key, signer.signer.cert);
      const b = await readCertRep(await postPkiOperation(host, msg), signer.key, signer.signer.cert);
      expect([a.status, b.status]).toEqual([PKIStatus.SUCCESS, PKIStatus.SUCCESS]);
      expect(b.certificates[0]?.serialNumber).toBe(a.certificates[0]?.serialNumber);
      expect(await recordsForTransaction('found-bugs-resend')).toHaveLength(1);
    } finally {
      await host.close();
      restoreEnv();
    }
  }, 60_000);
});

describe('local host: a closed host leaves no settings behind', () => {
  // startLocalHost (scripts/local/backing.ts applyEnvironment): `Object.assign(process.env, env)`
  // and close() never takes the values back. A second host in the same process with store 'cosmos' finds the first
  // host's AppConfig__CosmosDb__Endpoint in process.env, skips starting its own server and
  // uses the closed one (probe 503 "ECONNREFUSED", every enrollment a FAILURE).
  it('gives a second store "cosmos" host its own working Cosmos server', async () => {
    const first = await startTestHost({}, { store: 'cosmos' });
    await first.close();
    const second = await startTestHost({}, { store: 'cosmos' });
    try {
      const probe = await fetch(`${second.baseUrl}/probe`);
      expect(probe.status, await probe.text()).toBe(200);
      const signer = await selfSignedClient('found-bugs-second-host');
      const csr = await makeCsr({ key: ecKey('P-256'), subject: 'CN=second', challenge: 'test-challenge-1' });
      const msg = buildPkiMessage({
        messageType: MessageType.PKCSReq,
        transactionId: 'found-bugs-second-host',
        content: csr,
        recipients: [second.ca],
        signerKey: signer.key,
        signerCert: signer.signer.cert,
      });
      const rep = await readCertRep(await postPkiOperation(second, msg), signer.key, signer.signer.cert);
      expect(rep.status, rep.failInfoText).toBe(PKIStatus.SUCCESS);
    } finally {
      await second.close();
    }
  }, 60_000);
});
