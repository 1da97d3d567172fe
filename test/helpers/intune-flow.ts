import { randomUUID, type KeyObject } from 'node:crypto';
import type { Certificate, Extension, GeneralName } from '@peculiar/asn1-x509';
import { getApp } from '../../lib/app.js';
import type { HashAlgorithm } from '../../lib/keys/types.js';
import { MessageType } from '../../lib/scep/types.js';
import type { CertificateRecord } from '../../lib/store/types.js';
import type { FakeIntune, RecordedCall } from '../fakes/intune-server.js';
import { startTestHost, type TestHost, type TestHostOptions } from './host.js';
import { snapshotProcessEnv } from './process-env.js';
import { makeCert, makeCsr, rsaKey } from './pki.js';
import { buildPkiMessage, readCertRep, type CertRep } from './scep-client.js';

/** Steps of the Intune end-to-end tests: a host wired to the fake Intune, enrollments, waits. */

export const INTUNE_PATH = '/certsrv/mscep/mscep.dll';

/** Settings that point the app at the fake (spec §5 overrides, as lib/config/intune.ts names them). */
export function intuneEnv(fake: FakeIntune, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AppConfig__IntuneValidation__Enabled: 'true',
    AppConfig__AuthConfig__ApplicationId: fake.clientId,
    AppConfig__AuthConfig__ApplicationKey: fake.clientSecret,
    AppConfig__AuthConfig__TenantId: fake.tenantId,
    AppConfig__AuthConfig__Authority: fake.url,
    AppConfig__IntuneValidation__GraphBaseUrl: fake.graphBase,
    AppConfig__IntuneValidation__ProviderNameAndVersion: 'azure-scep-ca-e2e/1.0',
    AppConfig__IntuneValidation__WaitForSuccessNotificationResponse: 'false',
    AppConfig__IntuneValidation__RequestTimeoutSeconds: '30',
    // A fresh Azurite per host: the previous host's connection string (left in process.env by
    // startLocalHost) points at a stopped one.
    AzureWebJobsStorage: '',
    ...extra,
  };
}

/**
 * startLocalHost copies its settings into process.env, so a second host in the same file would
 * inherit the first one's. Start a host and get back a close() that also restores process.env.
 */
export async function startIsolatedHost(
  env: Record<string, string>,
  options: TestHostOptions = {},
): Promise<TestHost> {
  const restore = snapshotProcessEnv();
  const host = await startTestHost(env, options);
  return {
    ...host,
    close: async () => {
      await host.close();
      restore();
    },
  };
}

export interface EnrollOptions {
  readonly subject: string;
  readonly sans?: GeneralName[];
  readonly extensions?: Extension[];
  readonly challenge?: string;
  readonly hash?: HashAlgorithm;
  readonly bits?: number;
  /** Reuses one RSA key per name (keygen is slow). */
  readonly keyName?: string;
  readonly transactionId?: string;
  readonly path?: string;
  /** Sign the pkiMessage with this certificate (of `keyName`'s key) instead of a self-signed one. */
  readonly signerCert?: Certificate;
  readonly messageType?: MessageType;
  /** Send PKIOperation as GET with the message in the query (RFC 8894 §4.1), not POST. */
  readonly get?: boolean;
}

export interface Enrollment {
  readonly rep: CertRep;
  readonly transactionId: string;
  /** The CSR as Intune must see it: standard base64 of the DER. */
  readonly csrBase64: string;
  /** The pkiMessage, to re-send it unchanged. */
  readonly message: Uint8Array;
  readonly key: KeyObject;
  resend(): Promise<CertRep>;
}

export async function enrollIntune(host: TestHost, o: EnrollOptions): Promise<Enrollment> {
  const key = rsaKey(o.bits ?? 2048, o.keyName ?? 'intune-device');
  const signerCert = o.signerCert ?? (await makeCert({ key, subject: 'CN=SCEP SIGNER' })).cert;
  const csr = await makeCsr({
    key,
    subject: o.subject,
    challenge: o.challenge ?? 'intune-challenge-ok',
    ...(o.sans ? { sans: o.sans } : {}),
    ...(o.extensions ? { extensions: o.extensions } : {}),
    ...(o.hash ? { hash: o.hash } : {}),
  });
  const transactionId = o.transactionId ?? randomUUID().toUpperCase();
  const message = buildPkiMessage({
    messageType: o.messageType ?? MessageType.PKCSReq,
    transactionId,
    content: csr,
    recipients: [host.ca],
    signerKey: key,
    signerCert,
  });
  const send = async (): Promise<CertRep> => {
    const url = `${o.path ?? INTUNE_PATH}?operation=PKIOperation`;
    const res = o.get
      ? await fetch(
          `${host.baseUrl}${url}&message=${encodeURIComponent(Buffer.from(message).toString('base64'))}`,
        )
      : await host.post(url, message);
    const body = new Uint8Array(await res.arrayBuffer());
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${Buffer.from(body).toString('utf8')}`);
    return readCertRep(body, key, signerCert);
  };
  const rep = await send();
  return { rep, transactionId, csrBase64: Buffer.from(csr).toString('base64'), message, key, resend: send };
}

/** Poll `probe` until it returns a value (bounded; the queue worker polls every 0.5 s). */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function callsFor(
  fake: FakeIntune,
  action: RecordedCall['action'],
  transactionId: string,
): RecordedCall[] {
  return fake.calls.filter((c) => c.action === action && c.fields.transactionId === transactionId);
}

/** The record of the in-process host's store, by serial (any case). */
export async function recordBySerial(serialHex: string): Promise<CertificateRecord | undefined> {
  const app = await getApp();
  return (await app.store.getBySerial(serialHex.toLowerCase())) ?? app.store.getBySerial(serialHex);
}

export async function recordsOfTransaction(transactionId: string): Promise<CertificateRecord[]> {
  const app = await getApp();
  const { items } = await app.store.search({ limit: 100_000 });
  return items.filter((r) => r.transactionId === transactionId);
}
