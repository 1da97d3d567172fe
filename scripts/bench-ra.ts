import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnParser } from '@peculiar/asn1-schema';
import { ContentInfo, SignedData } from '@peculiar/asn1-cms';
import { Certificate } from '@peculiar/asn1-x509';
import { createRootCertificate } from '../lib/ca/root.js';
import { buildCsr } from '../lib/csr/build.js';
import { LocalKey } from '../lib/keys/local.js';
import { buildPkiMessage, readCertRep } from '../testkit/scep-client.js';
import { MessageType, PKIStatus } from '../lib/scep/types.js';
import { startFakeKeyVault } from '../test/fakes/keyvault-server.js';
import { startLocalHost } from './host.js';

const CA_KEY = 'bench-ra-ca';
const SUCCESS: number = PKIStatus.SUCCESS;

/**
 * Key Vault operations per SCEP enrollment in RA mode, counted by the Key Vault-compatible test
 * server through the real SDK: the CA key should sign only the certificate (1), the endpoint's RA
 * key open the envelope and sign the CertRep (2); a refused request costs the CA key nothing.
 */
export async function benchRaOperations(enrollments = 5): Promise<string[]> {
  const vault = await startFakeKeyVault();
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-ra-'));
  const kv = await vault.initCa({ certificateName: CA_KEY, subject: 'CN=Bench RA CA, O=bench' });
  const host = await startLocalHost({
    port: 0,
    dataDir,
    quiet: true,
    credential: vault.credential,
    env: {
      AppConfig__KeyVaultConfig__KeyVaultURL: kv.url ?? vault.url,
      AppConfig__KeyVaultConfig__RootCertificateConfig__CertificateName: CA_KEY,
      AppConfig__StaticValidation__RequestPassword: 'bench-ra-challenge',
      AppConfig__StaticValidation__RaEnabled: 'true',
    },
  });
  try {
    await host.warmedUp; // its responder certificate is a CA key operation too
    const ra = await publishedRaCertificate(host.baseUrl);
    const enroll = await enroller(host.baseUrl, ra);
    await enroll('bench-ra-challenge'); // warm-up: loads keys
    vault.resetCounts();
    for (let i = 0; i < enrollments; i++) {
      if ((await enroll('bench-ra-challenge')) !== SUCCESS) throw new Error('bench: RA enrollment failed');
    }
    const ca = vault.keyOperations(CA_KEY) / enrollments;
    const raOps = vault.keyOperations('ra-static') / enrollments;
    vault.resetCounts();
    await enroll('wrong-challenge');
    const refused = vault.keyOperations(CA_KEY);
    return [
      `RA mode, Key Vault operations per enrollment (${enrollments} enrollments, Key Vault test server):`,
      `  CA key ${ca}, RA key ${raOps}; a refused request: CA key ${refused}`,
    ];
  } finally {
    await host.close();
    await vault.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The RA certificate the static endpoint publishes first in GetCACert. */
async function publishedRaCertificate(baseUrl: string): Promise<Certificate> {
  const res = await fetch(`${baseUrl}/scep/static?operation=GetCACert`);
  const sd = AsnParser.parse(
    AsnParser.parse(Buffer.from(await res.arrayBuffer()), ContentInfo).content,
    SignedData,
  );
  const ra = sd.certificates?.[0]?.certificate;
  if (!ra) throw new Error('bench: GetCACert published no RA certificate');
  return ra;
}

/** A client with its own key and self-signed signer: each call enrolls once, returns the pkiStatus. */
async function enroller(baseUrl: string, ra: Certificate): Promise<(challenge: string) => Promise<number>> {
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const signer = new LocalKey(key, 'bench-ra-client');
  const cert = AsnParser.parse(
    await createRootCertificate({ signer, subject: 'CN=SCEP SIGNER', days: 1 }),
    Certificate,
  );
  return async (challenge) => {
    const csr = await buildCsr({ signer, subject: `CN=bench-ra-${randomUUID()}`, challenge });
    const der = buildPkiMessage({
      messageType: MessageType.PKCSReq,
      transactionId: randomUUID(),
      content: csr,
      recipients: [ra],
      signerKey: key,
      signerCert: cert,
    });
    const r = await fetch(`${baseUrl}/scep/static?operation=PKIOperation`, { method: 'POST', body: der });
    return (await readCertRep(new Uint8Array(await r.arrayBuffer()), key, cert)).status;
  };
}
