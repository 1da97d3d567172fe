import { X509Certificate } from 'node:crypto';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { id_kp_OCSPSigning } from '@peculiar/asn1-x509';
import { createRootCertificate } from '../../lib/ca/root.js';
import { LocalKey } from '../../lib/keys/local.js';
import type { CaKeys } from '../../lib/keys/types.js';
import { memoryLogger } from '../../lib/log.js';
import { EpochWatcher } from '../../lib/revocation/epoch.js';
import { OcspResponder } from '../../lib/revocation/ocsp.js';
import { ResponderCertificates } from '../../lib/revocation/responder.js';
import { MemoryCertificateStore } from '../../lib/store/memory.js';
import type { CertificateStore } from '../../lib/store/types.js';
import { ecKey } from '../helpers/pki.js';
import { ocspRequest, readOcspResponse, testCaKeys } from '../helpers/revocation.js';
import { testRecord } from './store-contract.js';

let ca: CaKeys;
let responder: ResponderCertificates;
beforeAll(async () => {
  ca = await testCaKeys();
  responder = new ResponderCertificates(ca);
});

/** A clock the test moves; the epoch watcher and the responder both read it. */
function fakeClock(): { now: () => Date; ms: () => number; advance(ms: number): void } {
  let t = Date.UTC(2026, 5, 1, 12, 0, 0);
  return { now: () => new Date(t), ms: () => t, advance: (ms) => void (t += ms) };
}

function setup(store: CertificateStore = new MemoryCertificateStore()) {
  const clock = fakeClock();
  const epoch = new EpochWatcher(() => store.revocationEpoch(), 2000, clock.ms);
  const logger = memoryLogger();
  const ocsp = new OcspResponder({ store, ca, responder, epoch, logger, now: clock.now });
  return { store, clock, epoch, ocsp, logger };
}

async function issued(store: CertificateStore, n: number, serial: string) {
  const r = await store.create(
    testRecord(n, { serialNumber: serial, issuer: 'CN=Revocation Test CA, O=Test' }),
  );
  if (!r.created) throw new Error('not created');
  return r.record;
}

describe('OCSP responder', () => {
  let t: ReturnType<typeof setup>;
  beforeEach(() => {
    t = setup();
  });

  it('ok/answers good for an issued certificate, signed by a delegated responder certificate', async () => {
    await issued(t.store, 1, '11aa');
    const a = await t.ocsp.respond(ocspRequest(ca.certificateDer, ['11aa']));
    const r = readOcspResponse(a.der);
    expect(r.status).toBe(0);
    expect(r.answers).toEqual([{ serial: '11aa', state: 'good' }]);
    expect(r.signatureValid).toBe(true);
    const caCert = new X509Certificate(ca.certificateDer);
    expect(r.responder?.checkIssued(caCert)).toBe(true);
    expect(r.responder?.verify(caCert.publicKey)).toBe(true);
    expect(r.responder?.keyUsage).toEqual([id_kp_OCSPSigning]);
    const hours = (Date.parse(r.responder!.validTo) - Date.parse(r.responder!.validFrom)) / 3_600_000;
    expect(hours).toBeLessThanOrEqual(49);
    expect(a.maxAge).toBe(600);
  });

  it('ok/the responder certificate carries id-pkix-ocsp-nocheck and is not a CA', async () => {
    const id = await responder.get();
    const x = new X509Certificate(id.certificateDer);
    expect(x.ca).toBe(false);
    // 1.3.6.1.5.5.7.48.1.5 with a NULL value
    expect(Buffer.from(id.certificateDer).includes(Buffer.from('06092b0601050507300105', 'hex'))).toBe(true);
  });

  it('ok/answers revoked with time and reason, and unknown for a serial it never issued', async () => {
    const rec = await issued(t.store, 2, '22bb');
    await t.store.update(rec, {
      status: 'revoked',
      revocation: { reason: 'keyCompromise', date: '2026-05-30T10:00:00.250Z' },
    });
    const r = readOcspResponse(
      (await t.ocsp.respond(ocspRequest(ca.certificateDer, ['22bb', '0badc0ffee']))).der,
    );
    expect(r.answers).toEqual([
      { serial: '22bb', state: 'revoked', reason: 1, time: new Date('2026-05-30T10:00:00Z') },
      { serial: '0badc0ffee', state: 'unknown' },
    ]);
  });

  it('ok/revoked with reason unspecified carries no reason (RFC 5280 §5.3.1)', async () => {
    const rec = await issued(t.store, 3, '33cc');
    await t.store.update(rec, {
      status: 'revoked',
      revocation: { reason: 'unspecified', date: '2026-05-30T10:00:00Z' },
    });
    const r = readOcspResponse((await t.ocsp.respond(ocspRequest(ca.certificateDer, ['33cc']))).der);
    expect(r.answers[0]).toEqual({
      serial: '33cc',
      state: 'revoked',
      time: new Date('2026-05-30T10:00:00Z'),
    });
  });

  it('ok/SHA-256 certIDs are answered like SHA-1 ones', async () => {
    await issued(t.store, 4, '44dd');
    const r = readOcspResponse(
      (await t.ocsp.respond(ocspRequest(ca.certificateDer, ['44dd'], { hash: 'SHA-256' }))).der,
    );
    expect(r.answers).toEqual([{ serial: '44dd', state: 'good' }]);
  });

  it('ok/a certID for another issuer or with an unknown hash algorithm is unknown', async () => {
    await issued(t.store, 5, '55ee');
    const other = await testCaKeys('CN=Someone Else CA');
    const r1 = readOcspResponse((await t.ocsp.respond(ocspRequest(other.certificateDer, ['55ee']))).der);
    expect(r1.answers).toEqual([{ serial: '55ee', state: 'unknown' }]);
    const r2 = readOcspResponse(
      (await t.ocsp.respond(ocspRequest(ca.certificateDer, ['55ee'], { hashOid: '1.2.840.113549.2.5' }))).der,
    );
    expect(r2.answers).toEqual([{ serial: '55ee', state: 'unknown' }]);
  });

  it('ok/a serial another CA issued (the one before a rollover) is unknown for this CA, not good', async () => {
    const r = await t.store.create(testRecord(9, { serialNumber: '5a9b', issuer: 'CN=Previous CA' }));
    if (!r.created) throw new Error('not created');
    await t.store.update(r.record, {
      status: 'revoked',
      revocation: { reason: 'keyCompromise', date: '2026-05-01T00:00:00Z' },
    });
    const a = readOcspResponse((await t.ocsp.respond(ocspRequest(ca.certificateDer, ['5a9b']))).der);
    expect(a.answers).toEqual([{ serial: '5a9b', state: 'unknown' }]);
  });

  it('ok/echoes the nonce and does not let such a response be cached', async () => {
    await issued(t.store, 6, '66ff');
    const nonce = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    const a = await t.ocsp.respond(ocspRequest(ca.certificateDer, ['66ff'], { nonce }));
    expect(readOcspResponse(a.der).nonce).toEqual(nonce);
    expect(a.maxAge).toBe(0);
  });

  it('fail/garbage, an empty body and a nonce over 32 octets get malformedRequest, not an exception', async () => {
    for (const body of [
      new Uint8Array(0),
      Uint8Array.of(0x30, 0x03, 0x02, 0x01),
      new TextEncoder().encode('hello'),
    ]) {
      const a = await t.ocsp.respond(body);
      expect(readOcspResponse(a.der).status).toBe(1);
      expect(a.maxAge).toBe(0);
    }
    const long = ocspRequest(ca.certificateDer, ['01'], { nonce: new Uint8Array(40) });
    expect(readOcspResponse((await t.ocsp.respond(long)).der).status).toBe(1);
  });

  it('fail/a certID that parses but cannot be encoded again (hash parameters an empty UTCTime) is malformedRequest', async () => {
    const valid = Buffer.from(ocspRequest(ca.certificateDer, ['01']));
    // SHA-1 AlgorithmIdentifier: OID 1.3.14.3.2.26, then NULL (05 00) turned into UTCTime (17 00).
    const sha1 = Buffer.from('06052b0e03021a0500', 'hex');
    const at = valid.indexOf(sha1);
    expect(at).toBeGreaterThan(0);
    valid[at + sha1.length - 2] = 0x17;
    const a = await t.ocsp.respond(new Uint8Array(valid));
    expect(readOcspResponse(a.der).status).toBe(1);
    expect(a.maxAge).toBe(0);
  });

  it('fail/a store that does not answer gives tryLater', async () => {
    const broken = new MemoryCertificateStore();
    broken.getBySerial = () => Promise.reject(new Error('down'));
    const b = setup(broken);
    const r = readOcspResponse((await b.ocsp.respond(ocspRequest(ca.certificateDer, ['01']))).der);
    expect(r.status).toBe(3);
  });

  it('ok/a pre-signed response is reused, and a revocation seen in the store epoch replaces it', async () => {
    const rec = await issued(t.store, 7, '77aa');
    const req = ocspRequest(ca.certificateDer, ['77aa']);
    const first = await t.ocsp.respond(req);
    t.clock.advance(500);
    expect((await t.ocsp.respond(req)).der).toBe(first.der); // the same bytes: no signature spent
    // Revoked through another instance: this one learns it from the epoch within its interval.
    await t.store.update(rec, {
      status: 'revoked',
      revocation: { reason: 'superseded', date: '2026-06-01T12:00:00Z' },
    });
    t.clock.advance(2000);
    expect(readOcspResponse((await t.ocsp.respond(req)).der).answers[0]?.state).toBe('revoked');
  });

  it('ok/a pre-signed response is signed afresh after five minutes', async () => {
    await issued(t.store, 8, '88bb');
    const req = ocspRequest(ca.certificateDer, ['88bb']);
    const first = await t.ocsp.respond(req);
    t.clock.advance(301_000);
    const second = await t.ocsp.respond(req);
    expect(second.der).not.toBe(first.der);
    expect(second.thisUpdate!.getTime() - first.thisUpdate!.getTime()).toBe(301_000);
  });
});

describe('OCSP responder certificate', () => {
  it('ok/a CA that expires before half the responder validity is not asked to sign on every request', async () => {
    const key = new LocalKey(ecKey('P-256'), 'test:expiring-ca');
    const now = new Date(Date.UTC(2026, 5, 1, 12, 0, 0));
    // The CA expires in 12 hours: every responder certificate ends then, 36 hours short of 48.
    const der = await createRootCertificate({ signer: key, subject: 'CN=Expiring CA', days: 0.5, now });
    const expiring: CaKeys = { certificateDer: der, chainDer: [], signer: key, decrypter: key };
    const issuedAt: Date[] = [];
    const certs = new ResponderCertificates(expiring, {
      now: () => now,
      onIssued: (d) => void issuedAt.push(new Date(new X509Certificate(d).validTo)),
    });
    const first = await certs.get();
    for (let i = 0; i < 3; i++) {
      expect(await certs.get()).toBe(first);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(issuedAt).toHaveLength(1);
    expect(first.notAfter.getTime()).toBe(now.getTime() + 12 * 3_600_000);
  });
});
