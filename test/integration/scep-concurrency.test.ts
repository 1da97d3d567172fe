import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getApp } from '../../lib/app.js';
import { MessageType, PKIStatus } from '../../lib/scep/types.js';
import { startTestHost, type TestHost } from '../helpers/host.js';
import { ecKey, makeCsr } from '../helpers/pki.js';
import { buildPkiMessage, readCertRep } from '../helpers/scep-client.js';
import { postPkiOperation, selfSignedClient, type ScepClientIdentity } from '../helpers/scep-flow.js';

/**
 * Concurrency (field notes #12: file-based serial counters hand out duplicates under load):
 * distinct enrollments get distinct serials; identical concurrent re-sends get one certificate.
 */

const CHALLENGE = 'test-challenge-1';
let host: TestHost;
let signer: ScepClientIdentity;

beforeAll(async () => {
  host = await startTestHost();
  // One RSA request signer; each CSR carries its own EC key (fast to make, distinct keys).
  signer = await selfSignedClient('concurrency');
});
afterAll(async () => {
  await host.close();
});

async function pool<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

async function message(transactionId: string): Promise<Uint8Array> {
  const csr = await makeCsr({ key: ecKey('P-256'), subject: `CN=${transactionId}`, challenge: CHALLENGE });
  return buildPkiMessage({
    messageType: MessageType.PKCSReq,
    transactionId,
    content: csr,
    recipients: [host.ca],
    signerKey: signer.key,
    signerCert: signer.signer.cert,
  });
}

describe('concurrent enrollments', () => {
  it('ok/100 distinct enrollments at concurrency 16 → 100 certificates with 100 distinct serials, all recorded', async () => {
    const messages = await Promise.all(Array.from({ length: 100 }, (_, i) => message(`conc-${i}`)));
    const reps = await pool(messages, 16, async (msg) =>
      readCertRep(await postPkiOperation(host, msg), signer.key, signer.signer.cert),
    );
    expect(reps.map((r) => r.status)).toEqual(new Array<number>(100).fill(PKIStatus.SUCCESS));
    const serials = reps.map((r) => r.certificates[0]!.serialNumber);
    expect(new Set(serials).size).toBe(100);
    const subjects = new Set(reps.map((r) => r.certificates[0]!.subject));
    expect(subjects.size).toBe(100);
    const store = (await getApp()).store;
    const { items } = await store.search({ limit: 1000 });
    const norm = (s: string): string => s.toLowerCase().replace(/^(?:00)+(?=..)/, '');
    const recorded = new Set(items.map((r) => norm(r.serialNumber)));
    for (const s of serials) expect(recorded.has(norm(s))).toBe(true);
  });

  it('ok/20 concurrent copies of one request → one certificate, one record', async () => {
    const msg = await message('conc-identical');
    const reps = await Promise.all(
      Array.from({ length: 20 }, async () =>
        readCertRep(await postPkiOperation(host, msg), signer.key, signer.signer.cert),
      ),
    );
    expect(reps.map((r) => r.status)).toEqual(new Array<number>(20).fill(PKIStatus.SUCCESS));
    expect(new Set(reps.map((r) => r.certificates[0]!.serialNumber)).size).toBe(1);
    const { items } = await (await getApp()).store.search({ limit: 1000 });
    expect(items.filter((r) => r.transactionId === 'conc-identical')).toHaveLength(1);
  });
});
