import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ocspRequest, readOcspResponse } from '../helpers/revocation.js';
import { startTestHost, type TestHost } from '../helpers/host.js';

/**
 * The warmup function (functions/warmup.ts) runs once when the local host starts, as the
 * Functions host runs it on a new instance: the OCSP responder's key and certificate exist
 * before the first OCSP request, which is then answered with that same certificate.
 */
let host: TestHost;

beforeAll(async () => {
  host = await startTestHost({}, { store: 'sqlite' });
});
afterAll(async () => {
  await host.close();
});

async function responderEvents(): Promise<
  { operation: string; changes?: { after?: { thumbprintSha256?: string } }[] }[]
> {
  const res = await fetch(`${host.baseUrl}/api/manage/audit?reason=key-lifecycle&format=json`, {
    headers: { authorization: `Bearer ${host.adminKey ?? ''}` },
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as {
    events: { operation: string; changes?: { after?: { thumbprintSha256?: string } }[] }[];
  };
  return body.events.filter((e) => e.operation.startsWith('ocsp-responder.'));
}

describe('warmup on start', () => {
  it('ok/the OCSP responder certificate is issued at start, and the first OCSP request uses it', async () => {
    const before = await responderEvents();
    expect(before.map((e) => e.operation)).toEqual(['ocsp-responder.issued']);

    const caDer = Buffer.from(host.caCertificatePem.replace(/-----[^-]+-----|\s+/g, ''), 'base64');
    const res = await host.post('/ocsp', ocspRequest(new Uint8Array(caDer), ['01']), {
      'content-type': 'application/ocsp-request',
    });
    expect(res.status).toBe(200);
    const answer = readOcspResponse(new Uint8Array(await res.arrayBuffer()));
    expect(answer.answers[0]?.state).toBe('unknown');
    const issued = before[0]?.changes?.[0]?.after?.thumbprintSha256;
    expect(issued).toMatch(/^[0-9A-F]{64}$/);
    expect(answer.responder?.fingerprint256.replace(/:/g, '')).toBe(
      before[0]?.changes?.[0]?.after?.thumbprintSha256,
    );

    const after = await responderEvents();
    expect(after).toEqual(before); // no second responder certificate
  });
});
