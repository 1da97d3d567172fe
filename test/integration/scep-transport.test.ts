import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageType, PKIStatus } from '../../lib/scep/types.js';
import { startTestHost, type TestHost } from '../helpers/host.js';
import { makeCsr } from '../helpers/pki.js';
import { buildPkiMessage, readCertRep } from '../helpers/scep-client.js';
import { selfSignedClient, type ScepClientIdentity } from '../helpers/scep-flow.js';

/**
 * HTTP transport of SCEP against the local host: GET with the dirty base64 real clients send
 * (field notes #2), POST with any or no Content-Type, the Windows sub-path, and bad input that
 * must get a 4xx, never a 500.
 */

const CHALLENGE = 'test-challenge-1';
let host: TestHost;
let client: ScepClientIdentity;

beforeAll(async () => {
  host = await startTestHost();
  client = await selfSignedClient('transport');
});
afterAll(async () => {
  await host.close();
});

async function message(transactionId: string): Promise<Uint8Array> {
  const csr = await makeCsr({ key: client.key, subject: `CN=${transactionId}`, challenge: CHALLENGE });
  return buildPkiMessage({
    messageType: MessageType.PKCSReq,
    transactionId,
    content: csr,
    recipients: [host.ca],
    signerKey: client.key,
    signerCert: client.signer.cert,
  });
}

/** A message whose base64 has +, / and "=" padding, so every dirty variant changes something. */
async function dirtyMessage(transactionId: string): Promise<{ msg: Uint8Array; b64: string }> {
  for (let i = 0; ; i++) {
    const msg = await message(`${transactionId}-${i}`);
    const b64 = Buffer.from(msg).toString('base64');
    if (b64.includes('+') && b64.includes('/') && b64.endsWith('=')) return { msg, b64 };
  }
}

const lines = (s: string, n: number, eol: string): string =>
  (s.match(new RegExp(`.{1,${n}}`, 'g')) ?? []).join(eol);

const variants: [string, (b64: string) => string][] = [
  ['standard, + / = unescaped (macOS)', (s) => s],
  ['percent-encoded', (s) => encodeURIComponent(s)],
  ['URL-safe without padding', (s) => s.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')],
  ['URL-safe with padding', (s) => s.replace(/\+/g, '-').replace(/\//g, '_')],
  ['+ arriving as %20', (s) => s.replace(/\+/g, '%20')],
  ['missing padding', (s) => s.replace(/=+$/, '')],
  ['%0A line breaks every 64 characters', (s) => encodeURIComponent(lines(s, 64, '\n'))],
  ['%0D%0A line breaks every 76 characters', (s) => encodeURIComponent(lines(s, 76, '\r\n'))],
  [
    'lower-case percent escapes',
    (s) => encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
  ],
];

async function get(path: string): Promise<Response> {
  return fetch(`${host.baseUrl}${path}`);
}

describe('GET PKIOperation with dirty base64', () => {
  it.each(variants.map(([name, f], i) => [name, f, i] as const))(
    'ok/%s → SUCCESS',
    async (_name, encode, i) => {
      const { msg } = await dirtyMessage(`get-${i}`);
      const res = await get(
        `/scep/static?operation=PKIOperation&message=${encode(Buffer.from(msg).toString('base64'))}`,
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/x-pki-message');
      const rep = await readCertRep(new Uint8Array(await res.arrayBuffer()), client.key, client.signer.cert);
      expect(rep.status).toBe(PKIStatus.SUCCESS);
      expect(rep.certificates[0]?.subject).toMatch(new RegExp(`^CN=get-${i}-`));
    },
  );

  it('ok/message before operation in the query string', async () => {
    const { b64 } = await dirtyMessage('get-order');
    const res = await get(`/scep/static?message=${encodeURIComponent(b64)}&operation=PKIOperation`);
    expect(res.status).toBe(200);
  });
});

describe('POST PKIOperation', () => {
  it.each([
    ['no Content-Type', {}],
    ['application/x-pki-message', { 'content-type': 'application/x-pki-message' }],
    ['text/plain', { 'content-type': 'text/plain' }],
    ['application/octet-stream', { 'content-type': 'application/octet-stream' }],
    ['application/x-www-form-urlencoded', { 'content-type': 'application/x-www-form-urlencoded' }],
  ] as const)('ok/with %s → SUCCESS', async (name, headers) => {
    const msg = await message(`post-${name.replace(/\W/g, '')}`);
    const res = await host.post('/scep/static?operation=PKIOperation', msg, headers);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-pki-message');
    const rep = await readCertRep(new Uint8Array(await res.arrayBuffer()), client.key, client.signer.cert);
    expect(rep.status).toBe(PKIStatus.SUCCESS);
  });

  it('ok/the Windows sub-path /scep/static/pkiclient.exe serves GetCACaps, GetCACert and PKIOperation (GET and POST)', async () => {
    const caps = await get('/scep/static/pkiclient.exe?operation=GetCACaps&message=default');
    expect(caps.status).toBe(200);
    expect(await caps.text()).toContain('POSTPKIOperation');
    const cert = await get('/scep/static/pkiclient.exe?operation=GetCACert&message=default');
    expect(cert.status).toBe(200);
    expect(cert.headers.get('content-type')).toBe('application/x-x509-ca-cert');
    const post = await host.post(
      '/scep/static/pkiclient.exe?operation=PKIOperation',
      await message('windows-post'),
    );
    expect(post.status).toBe(200);
    const viaGet = await get(
      `/scep/static/pkiclient.exe?operation=PKIOperation&message=${encodeURIComponent(Buffer.from(await message('windows-get')).toString('base64'))}`,
    );
    expect(viaGet.status).toBe(200);
    const rep = await readCertRep(new Uint8Array(await viaGet.arrayBuffer()), client.key, client.signer.cert);
    expect(rep.status).toBe(PKIStatus.SUCCESS);
  });
});

describe('GetCACaps and GetCACert over HTTP', () => {
  it('ok/GetCACaps: text/plain, one capability per line', async () => {
    const res = await get('/scep/static?operation=GetCACaps');
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect((await res.text()).trim().split('\n')).toEqual([
      'POSTPKIOperation',
      'Renewal',
      'SHA-1',
      'SHA-256',
      'SHA-384',
      'SHA-512',
      'AES',
      'DES3',
      'SCEPStandard',
    ]);
  });

  it('ok/GetCACert with a CA identifier → the CA DER', async () => {
    const res = await get('/scep/static?operation=GetCACert&message=MyCA');
    expect(Buffer.from(await res.arrayBuffer()).toString('base64')).toBe(
      host.caCertificatePem.replace(/-----[^-]+-----|\s/g, ''),
    );
  });
});

describe('bad input gets a 4xx JSON error, never a 500', () => {
  async function expectJsonError(res: Response, status: number, code: string): Promise<void> {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe(code);
    expect(body.message).not.toMatch(/\bat .+\(.+:\d+:\d+\)/); // no stack trace
  }

  it('fail/garbage POST body → 400 BAD_REQUEST', async () => {
    await expectJsonError(
      await host.post('/scep/static?operation=PKIOperation', new Uint8Array(Buffer.from('x'.repeat(500)))),
      400,
      'BAD_REQUEST',
    );
  });

  it('fail/truncated pkiMessage (POST and GET) → 400 BAD_REQUEST', async () => {
    const msg = await message('truncated');
    for (const len of [1, 20, Math.floor(msg.length / 2), msg.length - 1]) {
      await expectJsonError(
        await host.post('/scep/static?operation=PKIOperation', msg.subarray(0, len)),
        400,
        'BAD_REQUEST',
      );
    }
    const b64 = Buffer.from(msg.subarray(0, msg.length - 40)).toString('base64');
    await expectJsonError(
      await get(`/scep/static?operation=PKIOperation&message=${encodeURIComponent(b64)}`),
      400,
      'BAD_REQUEST',
    );
  });

  it('fail/empty POST body → 400 BAD_REQUEST', async () => {
    await expectJsonError(
      await host.post('/scep/static?operation=PKIOperation', new Uint8Array(0)),
      400,
      'BAD_REQUEST',
    );
  });

  it('fail/GET with a message that is not base64, or none → 400 BAD_REQUEST', async () => {
    await expectJsonError(
      await get('/scep/static?operation=PKIOperation&message=%21%21%21%21'),
      400,
      'BAD_REQUEST',
    );
    await expectJsonError(await get('/scep/static?operation=PKIOperation&message=QUJDR'), 400, 'BAD_REQUEST');
    await expectJsonError(await get('/scep/static?operation=PKIOperation'), 400, 'BAD_REQUEST');
    await expectJsonError(
      await get('/scep/static?operation=PKIOperation&message=aGVsbG8gd29ybGQ'),
      400,
      'BAD_REQUEST',
    );
  });

  it('fail/unknown operation → 400 UNKNOWN_OPERATION; unknown endpoint → 404 UNKNOWN_ENDPOINT', async () => {
    await expectJsonError(await get('/scep/static?operation=GetCRL'), 400, 'UNKNOWN_OPERATION');
    await expectJsonError(await get('/scep/static?operation=DELETE'), 400, 'UNKNOWN_OPERATION');
    await expectJsonError(await get('/scep/nowhere?operation=GetCACaps'), 404, 'UNKNOWN_ENDPOINT');
    await expectJsonError(
      await host.post('/scep/nowhere?operation=PKIOperation', await message('nowhere')),
      404,
      'UNKNOWN_ENDPOINT',
    );
  });

  it('fail/a body over the default 256 KiB cap → 413', async () => {
    const res = await host.post('/scep/static?operation=PKIOperation', new Uint8Array(300 * 1024));
    expect(res.status).toBe(413);
  });
});
