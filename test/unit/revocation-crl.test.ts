import { createPublicKey, verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { AsnParser } from '@peculiar/asn1-schema';
import { CertificateList, CRLReason, id_ce_cRLNumber, id_ce_cRLReasons } from '@peculiar/asn1-x509';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { CaKeys, Signer } from '../../lib/keys/types.js';
import { memoryLogger } from '../../lib/log.js';
import { buildCrl } from '../../lib/revocation/crl.js';
import { CrlPublisher } from '../../lib/revocation/crl-publisher.js';
import { EpochWatcher } from '../../lib/revocation/epoch.js';
import { MemoryCertificateStore } from '../../lib/store/memory.js';
import type { RevokedEntry } from '../../lib/store/types.js';
import { rawFirstElement, testCaKeys } from '../helpers/revocation.js';
import { testRecord } from './store-contract.js';
import { integerBytes, isUniversal, kid, kids, parseBer } from '../../lib/cms/ber.js';
import { canonicalSerialHex } from '../../lib/x509/cert-view.js';

let ca: CaKeys;
beforeAll(async () => {
  ca = await testCaKeys();
});

const THIS_UPDATE = new Date('2026-06-01T12:00:00Z');

async function* entries(list: readonly RevokedEntry[]): AsyncIterable<RevokedEntry> {
  await Promise.resolve();
  yield* list;
}

function entry(
  serialNumber: string,
  reason: RevokedEntry['revocation']['reason'],
  notAfter = '2027-01-01T00:00:00Z',
) {
  return { serialNumber, revocation: { reason, date: '2026-05-31T08:30:00.400Z' }, notAfter };
}

function verifies(der: Uint8Array): boolean {
  const key = createPublicKey(
    new X509Certificate(ca.certificateDer).publicKey.export({ format: 'pem', type: 'spki' }),
  );
  const crl = AsnParser.parse(der, CertificateList);
  return cryptoVerify('sha256', rawFirstElement(der), key, Buffer.from(crl.signature));
}

describe('CRL', () => {
  it('ok/lists revoked serials with date and reason, signed by the CA, with AKI and CRL number', async () => {
    const der = await buildCrl({
      caCertificateDer: ca.certificateDer,
      signer: ca.signer,
      thisUpdate: THIS_UPDATE,
      nextUpdate: new Date(THIS_UPDATE.getTime() + 7 * 86_400_000),
      crlNumber: 1_780_000_000_000n,
      entries: entries([
        entry('0a1b', 'keyCompromise'),
        entry('80ff', 'unspecified'),
        entry('7f01', 'certificateHold'),
      ]),
    });
    expect(verifies(der)).toBe(true);
    const crl = AsnParser.parse(der, CertificateList).tbsCertList;
    expect(crl.version).toBe(1);
    expect(crl.thisUpdate.getTime().getTime()).toBe(THIS_UPDATE.getTime());
    expect(crl.nextUpdate?.getTime().getTime()).toBe(THIS_UPDATE.getTime() + 7 * 86_400_000);
    const listed = crl.revokedCertificates?.map((r) => ({
      serial: Buffer.from(r.userCertificate).toString('hex'),
      date: r.revocationDate.getTime().getTime(),
      reason: r.crlEntryExtensions?.find((e) => e.extnID === id_ce_cRLReasons),
    }));
    expect(listed?.map((l) => l.serial)).toEqual(['0a1b', '0080ff', '7f01']);
    expect(listed?.[0]?.date).toBe(Date.parse('2026-05-31T08:30:00Z'));
    expect(AsnParser.parse(listed![0]!.reason!.extnValue, CRLReason).reason).toBe(1);
    expect(listed?.[1]?.reason).toBeUndefined(); // unspecified: no reason code (RFC 5280 §5.3.1)
    expect(AsnParser.parse(listed![2]!.reason!.extnValue, CRLReason).reason).toBe(6);
    const ext = crl.crlExtensions?.map((e) => e.extnID);
    expect(ext).toEqual(['2.5.29.35', id_ce_cRLNumber]);
  });

  it('ok/drops entries of expired certificates and omits an empty revoked list', async () => {
    const der = await buildCrl({
      caCertificateDer: ca.certificateDer,
      signer: ca.signer,
      thisUpdate: THIS_UPDATE,
      nextUpdate: new Date(THIS_UPDATE.getTime() + 86_400_000),
      crlNumber: 2n,
      entries: entries([entry('01', 'superseded', '2026-01-01T00:00:00Z')]),
    });
    expect(AsnParser.parse(der, CertificateList).tbsCertList.revokedCertificates).toBeUndefined();
    expect(verifies(der)).toBe(true);
  });

  it('ok/5,000 entries from the store are all listed', async () => {
    const store = new MemoryCertificateStore();
    const expected = new Set<string>();
    for (let n = 0; n < 5000; n++) {
      const r = await store.create(
        testRecord(n, { transactionKey: undefined, issuer: 'CN=X', notAfter: '2030-01-01T00:00:00Z' }),
      );
      if (!r.created) throw new Error('not created');
      if (n % 2 === 0) continue;
      await store.update(r.record, {
        status: 'revoked',
        revocation: { reason: 'keyCompromise', date: '2026-05-01T00:00:00Z' },
      });
      expected.add(r.record.serialNumber);
    }
    const der = await buildCrl({
      caCertificateDer: ca.certificateDer,
      signer: ca.signer,
      thisUpdate: THIS_UPDATE,
      nextUpdate: new Date(THIS_UPDATE.getTime() + 86_400_000),
      crlNumber: 3n,
      entries: store.listRevoked('CN=X'),
    });
    // Read with the project's BER reader: the schema parser refuses this many nodes.
    const tbs = kid(parseBer(der), 0);
    const revoked = kids(tbs).find((k, i) => i > 4 && isUniversal(k, 0x10));
    const serials = kids(revoked).map((e) => canonicalSerialHex(integerBytes(kid(e, 0))));
    expect(new Set(serials)).toEqual(expected);
    expect(serials).toHaveLength(2500);
  });
});

describe('CRL publisher', () => {
  function setup(debounceMs?: number) {
    const store = new MemoryCertificateStore();
    let t = THIS_UPDATE.getTime();
    const signs = { n: 0 };
    const signer: Signer = { ...ca.signer, sign: (d, h) => ((signs.n += 1), ca.signer.sign(d, h)) };
    const epoch = new EpochWatcher(
      () => store.revocationEpoch(),
      2000,
      () => t,
    );
    const publisher = new CrlPublisher({
      store,
      ca: { ...ca, signer },
      issuerName: 'CN=Test CA',
      epoch,
      logger: memoryLogger(),
      now: () => new Date(t),
      ...(debounceMs === undefined ? {} : { debounceMs }),
    });
    return { store, epoch, publisher, signs, advance: (ms: number) => void (t += ms) };
  }

  it('ok/downloads are served from memory: one signature for many downloads', async () => {
    const p = setup();
    const first = await p.publisher.get();
    for (let i = 0; i < 20; i++) expect(await p.publisher.get()).toBe(first);
    expect(p.signs.n).toBe(1);
    p.publisher.close();
  });

  it('ok/a revocation seen in the store epoch makes the next download a new CRL listing it, with a higher number', async () => {
    const p = setup();
    const r = await p.store.create(testRecord(1, { notAfter: '2030-01-01T00:00:00Z' }));
    if (!r.created) throw new Error('not created');
    const before = await p.publisher.get();
    await p.store.update(r.record, {
      status: 'revoked',
      revocation: { reason: 'keyCompromise', date: '2026-06-01T11:00:00Z' },
    });
    p.advance(2000);
    const after = await p.publisher.get();
    expect(after.crlNumber).toBeGreaterThan(before.crlNumber);
    const listed = AsnParser.parse(after.der, CertificateList).tbsCertList.revokedCertificates ?? [];
    expect(listed.map((x) => Buffer.from(x.userCertificate).toString('hex'))).toEqual([
      r.record.serialNumber,
    ]);
    p.publisher.close();
  });

  it('ok/a download that built the CRL after a revocation leaves the scheduled background rebuild nothing to sign', async () => {
    const p = setup(20);
    await p.publisher.get();
    p.epoch.changed(); // a revocation here: a rebuild is scheduled 20 ms later
    await p.publisher.get(); // a download first: builds it now
    expect(p.signs.n).toBe(2);
    await new Promise((r) => setTimeout(r, 100));
    expect(p.signs.n).toBe(2);
    p.epoch.changed(); // no download this time: the background rebuild signs
    await vi.waitFor(() => {
      expect(p.signs.n).toBe(3);
    });
    p.publisher.close();
  });

  it('ok/a CRL past half its validity is replaced in the background while the old one is served', async () => {
    const p = setup();
    const first = await p.publisher.get();
    p.advance(4 * 86_400_000);
    expect(await p.publisher.get()).toBe(first);
    await p.publisher.build();
    expect((await p.publisher.get()).thisUpdate.getTime()).toBeGreaterThan(first.thisUpdate.getTime());
    p.publisher.close();
  });

  it('ok/a download after nextUpdate (an instance idle that long) gets a new CRL, never the expired one', async () => {
    const p = setup();
    const first = await p.publisher.get();
    p.advance(8 * 86_400_000);
    const next = await p.publisher.get();
    expect(next).not.toBe(first);
    expect(next.nextUpdate.getTime()).toBeGreaterThan(THIS_UPDATE.getTime() + 8 * 86_400_000);
    p.publisher.close();
  });
});
