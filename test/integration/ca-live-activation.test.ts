import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { AsnParser } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { X509Certificate as PeculiarX509, X509Crl } from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../lib/admin/roles.js';
import { createApp, type App } from '../../lib/app.js';
import { caIdOf } from '../../lib/ca/urls.js';
import { silentLogger } from '../../lib/log.js';
import { MessageType, PKIStatus } from '../../lib/scep/types.js';
import { makeCert, makeCsr, rsaKey } from '../helpers/pki.js';
import { ocspRequest, readOcspResponse } from '../helpers/revocation.js';
import { buildPkiMessage, readCertRep } from '../helpers/scep-client.js';

/**
 * An activation picked up by running instances: two apps on one data folder and one embedded
 * database (two instances of one app), a clock the test moves. The instance that activates
 * issues with the new CA at once; the other keeps the CA it read until its re-read interval
 * (one minute) has passed, then issues with the new CA, publishes it, and keeps the previous CA
 * for renewals, OCSP and its CRL. Every certificate verifies with the CA it names as issuer.
 */
const CHALLENGE = 'live-activation-1';
const ADMIN: Actor = { id: 'admin-key', role: 'CA.Admin', scope: 'all' };

describe('CA activation picked up by running instances, without a restart', () => {
  let dir: string;
  let a: App;
  let b: App;
  let now = Date.now();
  let oldCa: X509Certificate;
  let newCa: X509Certificate;
  let seq = 0;

  /** GetCACert of the built-in `static` endpoint (CA mode): the CA that issues there. */
  const caOf = async (app: App): Promise<X509Certificate> => {
    const r = await app.scep.handle('static', {
      method: 'GET',
      operation: 'GetCACert',
      rawMessage: undefined,
      body: new Uint8Array(),
    });
    return new X509Certificate(r.body);
  };

  /** A PKCSReq (or a RenewalReq signed by `renewing`) through `app`; the issued certificate. */
  const enroll = async (
    app: App,
    cn: string,
    renewing?: { key: KeyObject; der: Uint8Array },
  ): Promise<{ cert: X509Certificate; key: KeyObject }> => {
    const key = renewing?.key ?? rsaKey(2048, cn);
    const signer = renewing
      ? { key, cert: AsnParser.parse(renewing.der, Certificate) }
      : { key, cert: (await makeCert({ key, subject: 'CN=SCEP SIGNER' })).cert };
    const recipient = AsnParser.parse((await caOf(app)).raw, Certificate);
    const msg = buildPkiMessage({
      messageType: renewing ? MessageType.RenewalReq : MessageType.PKCSReq,
      transactionId: `live-${++seq}`,
      content: await makeCsr({ key, subject: `CN=${cn}`, challenge: CHALLENGE }),
      recipients: [recipient],
      signerKey: key,
      signerCert: signer.cert,
    });
    const r = await app.scep.handle('static', {
      method: 'POST',
      operation: 'PKIOperation',
      rawMessage: undefined,
      body: msg,
    });
    const rep = await readCertRep(r.body as Uint8Array, key, signer.cert);
    expect(rep.status, rep.failInfoText).toBe(PKIStatus.SUCCESS);
    const cert = rep.certificates[0];
    if (!cert) throw new Error('no certificate in the CertRep');
    return { cert, key };
  };

  /** The CA (old or new) that signed `cert`; it must also be the one `cert` names as issuer. */
  const signerOf = (cert: X509Certificate): 'old' | 'new' => {
    const by = cert.verify(oldCa.publicKey) ? 'old' : cert.verify(newCa.publicKey) ? 'new' : 'none';
    expect(by).not.toBe('none');
    expect(cert.issuer).toBe(by === 'old' ? oldCa.subject : newCa.subject);
    return by as 'old' | 'new';
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scep-live-activation-'));
    const env = {
      AppConfig__DataDir: dir,
      AppConfig__LocalStore: 'sqlite',
      AppConfig__StaticValidation__Enabled: 'true',
      AppConfig__StaticValidation__RequestPassword: CHALLENGE,
      AppConfig__StaticValidation__AllowRenewals: 'true',
      AppConfig__BaseUrl: 'https://scep.live.test',
    };
    const clock = (): Date => new Date(now);
    a = await createApp(env, { logger: silentLogger, clock });
    b = await createApp(env, { logger: silentLogger, clock });
    oldCa = await caOf(a);
  }, 60_000);

  afterAll(async () => {
    a.close();
    b.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('ok/the activating instance issues with the new CA at once; the other within its one-minute re-read, not before', async () => {
    const before = await enroll(b, 'before');
    expect(before.cert.verify(oldCa.publicKey)).toBe(true);

    const created = await a.admin.ca.createNext(ADMIN, { subject: 'CN=Live CA 2, O=tests' });
    if (!('thumbprintSha256' in created)) throw new Error('expected a self-signed next CA');
    const activated = await a.admin.ca.activateNext(ADMIN);
    expect(activated.thumbprintSha256).toBe(created.thumbprintSha256);
    expect(activated.effective).toContain('at once');
    newCa = await caOf(a);
    expect(newCa.fingerprint256.replace(/:/g, '')).toBe(created.thumbprintSha256);
    expect(signerOf((await enroll(a, 'at-once')).cert)).toBe('new');

    // b read the record when it started; it reads it again only after a minute.
    now += 30_000;
    expect(signerOf((await enroll(b, 'within-interval')).cert)).toBe('old');
    expect((await caOf(b)).raw.equals(oldCa.raw)).toBe(true);

    now += 30_001;
    // Concurrent enrollments across the switch: each is signed by the CA it names.
    const burst = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => enroll(b, `burst-${i}`)));
    const signers = burst.map((e) => signerOf(e.cert));
    expect(signers).toEqual(signers.map(() => 'new'));
    expect((await caOf(b)).raw.equals(newCa.raw)).toBe(true);
    expect(new X509Certificate(b.ca.certificateDer).raw.equals(newCa.raw)).toBe(true);
    const caps = await b.scep.handle('static', {
      method: 'GET',
      operation: 'GetCACaps',
      rawMessage: undefined,
      body: new Uint8Array(),
    });
    expect(String(caps.body)).not.toContain('GetNextCACert');
    const list = await b.admin.ca.list(ADMIN);
    expect(list.value.map((c) => c.status)).toEqual(['current', 'previous']);

    // The previous CA stays for renewals, OCSP and its own CRL on the instance that picked it up.
    const renewed = await enroll(b, 'before', { key: before.key, der: before.cert.raw });
    expect(signerOf(renewed.cert)).toBe('new');
    const ocsp = readOcspResponse(
      (await b.revocation.ocsp.respond(ocspRequest(oldCa.raw, [before.cert.serialNumber.toLowerCase()]))).der,
    );
    expect(ocsp.answers[0]?.state).toBe('good');
    const crlOf = async (id?: string): Promise<X509Crl> => {
      const publisher = await b.revocation.crl(id);
      if (!publisher) throw new Error(`no CRL for ${id ?? 'the configured CA'}`);
      return new X509Crl((await publisher.get()).der);
    };
    const [oldCrl, newCrl] = await Promise.all([crlOf(), crlOf(caIdOf(newCa.raw))]);
    expect(await oldCrl.verify({ publicKey: new PeculiarX509(oldCa.raw) })).toBe(true);
    expect(await newCrl.verify({ publicKey: new PeculiarX509(newCa.raw) })).toBe(true);
    expect(oldCrl.issuer).toBe(new PeculiarX509(oldCa.raw).subject);
    expect(newCrl.issuer).toBe(new PeculiarX509(newCa.raw).subject);
  }, 120_000);
});
