import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  CMSVersion,
  ContentInfo,
  EncapsulatedContent,
  EncapsulatedContentInfo,
  SignedData,
  id_data,
  id_envelopedData,
  id_signedData,
} from '@peculiar/asn1-cms';
import { constructedOctets, csrFromBody } from '../../lib/rest/csr-body.js';
import { parseCsr } from '../../lib/csr/parse.js';
import { isAppError } from '../../lib/errors.js';
import { makeCsr } from '../fakes/rest-pki.js';
import { requireTools } from '../helpers/tools.js';

let csr: Uint8Array;
beforeAll(async () => {
  csr = await makeCsr('CN=ci-runner-7, O=Contoso', [{ type: 'dns', value: 'ci-runner-7.contoso.com' }]);
});

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const b64 = (d: Uint8Array): string => Buffer.from(d).toString('base64');
const pem = (label: string, d: Uint8Array, eol = '\n'): string =>
  `-----BEGIN ${label}-----${eol}${(b64(d).match(/.{1,64}/g) ?? []).join(eol)}${eol}-----END ${label}-----${eol}`;

function signedData(inner: Uint8Array | undefined, eContentType = id_data): Uint8Array {
  const sd = new SignedData({
    version: CMSVersion.v1,
    encapContentInfo: new EncapsulatedContentInfo({
      eContentType,
      ...(inner ? { eContent: new EncapsulatedContent({ single: new OctetString(inner) }) } : {}),
    }),
  });
  return new Uint8Array(
    AsnConvert.serialize(new ContentInfo({ contentType: id_signedData, content: AsnConvert.serialize(sd) })),
  );
}

/** DER TLV with a definite length. */
function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(parts);
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return new Uint8Array(Buffer.concat([Buffer.from([tag, ...len]), body]));
}
/** BER TLV with the indefinite length form (X.690 §8.1.3.6), as streaming encoders write it. */
const indefinite = (tag: number, ...parts: Uint8Array[]): Uint8Array =>
  new Uint8Array(Buffer.concat([Buffer.from([tag, 0x80]), ...parts, Buffer.from([0, 0])]));
const OID_DATA = Buffer.from('06092a864886f70d010701', 'hex');
const OID_SIGNED = Buffer.from('06092a864886f70d010702', 'hex');

/** SignedData in BER: every constructed length indefinite, the eContent OCTET STRING in chunks. */
function berSignedData(inner: Uint8Array): Uint8Array {
  const chunks = [inner.subarray(0, 100), inner.subarray(100, 101), inner.subarray(101)].map((c) =>
    tlv(0x04, c),
  );
  const eContent = indefinite(0xa0, indefinite(0x24, ...chunks));
  const encap = indefinite(0x30, OID_DATA, eContent);
  const sd = indefinite(0x30, tlv(0x02, Buffer.from([1])), tlv(0x31), encap, tlv(0x31));
  return indefinite(0x30, OID_SIGNED, indefinite(0xa0, sd));
}

function expectBadRequest(body: Uint8Array, message: RegExp): void {
  let caught: unknown;
  try {
    csrFromBody(body);
  } catch (e) {
    caught = e;
  }
  expect(isAppError(caught) && caught.code).toBe('BAD_REQUEST');
  expect(isAppError(caught) && caught.message).toMatch(message);
}

describe('csrFromBody: accepted forms', () => {
  it('ok/DER as sent with Content-Type application/pkcs10', () => {
    expect(csrFromBody(csr)).toEqual(csr);
  });

  it('ok/PEM CERTIFICATE REQUEST, with CRLF line ends and surrounding text', () => {
    expect(csrFromBody(text(`subject: ci-runner-7\r\n${pem('CERTIFICATE REQUEST', csr, '\r\n')}`))).toEqual(
      csr,
    );
  });

  it('ok/PEM NEW CERTIFICATE REQUEST as Windows certreq writes it', () => {
    expect(csrFromBody(text(pem('NEW CERTIFICATE REQUEST', csr)))).toEqual(csr);
  });

  it('ok/bare base64, on one line, wrapped, without padding, and URL-safe', () => {
    const one = b64(csr);
    expect(csrFromBody(text(one))).toEqual(csr);
    expect(csrFromBody(text(`${(one.match(/.{1,76}/g) ?? []).join('\n')}\n`))).toEqual(csr);
    expect(csrFromBody(text(one.replace(/=+$/, '')))).toEqual(csr);
    expect(csrFromBody(text(Buffer.from(csr).toString('base64url')))).toEqual(csr);
  });

  it('ok/CMS SignedData wrapping the PKCS#10, as DER, base64 and PEM PKCS7 / CMS', () => {
    const cms = signedData(csr);
    expect(csrFromBody(cms)).toEqual(csr);
    expect(csrFromBody(text(b64(cms)))).toEqual(csr);
    expect(csrFromBody(text(pem('PKCS7', cms)))).toEqual(csr);
    expect(csrFromBody(text(pem('CMS', cms)))).toEqual(csr);
  });

  it('ok/picks the request out of a PEM bundle that also holds other blocks', () => {
    const bundle = `${pem('PRIVATE KEY', text('not really a key'))}${pem('CERTIFICATE REQUEST', csr)}`;
    expect(csrFromBody(text(bundle))).toEqual(csr);
  });

  it('ok/BER SignedData with indefinite lengths and a chunked eContent', () => {
    expect(csrFromBody(berSignedData(csr))).toEqual(csr);
  });

  it('ok/the result parses as the same request', () => {
    expect(parseCsr(csrFromBody(text(pem('CERTIFICATE REQUEST', csr)))).subjectString).toBe(
      'CN=ci-runner-7, O=Contoso',
    );
  });
});

describe('csrFromBody: refused bodies', () => {
  const cases: [string, () => Uint8Array, RegExp][] = [
    ['empty body', () => new Uint8Array(), /empty/],
    ['binary garbage', () => new Uint8Array([0x01, 0x02, 0xff, 0x00, 0x10]), /neither DER/],
    ['truncated DER', () => csr.subarray(0, csr.length - 20), /DER body is not a valid PKCS#10/],
    ['text that is not base64', () => text('hello, certificate authority!'), /not valid base64/],
    ['a JSON body', () => text(JSON.stringify({ csr: 'abc' })), /not valid base64/],
    ['base64 of something that is not DER', () => text(b64(text('plain words'))), /does not decode to a DER/],
    [
      'a PEM certificate instead of a request',
      () => text(pem('CERTIFICATE', csr)),
      /"CERTIFICATE" block is not a certificate request/,
    ],
    [
      'an incomplete PEM block',
      () => text(pem('CERTIFICATE REQUEST', csr).split('-----END')[0] ?? ''),
      /incomplete/,
    ],
    [
      'a PEM request whose content is not PKCS#10',
      () => text(pem('CERTIFICATE REQUEST', text('0 not a request'))),
      /PEM body is not a valid PKCS#10/,
    ],
    [
      'CMS that is not SignedData',
      () =>
        new Uint8Array(
          AsnConvert.serialize(
            new ContentInfo({ contentType: id_envelopedData, content: new Uint8Array([0x30, 0x00]).buffer }),
          ),
        ),
      /not SignedData/,
    ],
    [
      'SignedData carrying CMC PKIData',
      () => signedData(csr, '1.3.6.1.5.5.7.12.2'),
      /1\.3\.6\.1\.5\.5\.7\.12\.2 is not supported/,
    ],
    ['detached SignedData without content', () => signedData(undefined), /no encapsulated/],
    [
      'SignedData whose content is not a PKCS#10',
      () => signedData(text('0hello')),
      /CMS-wrapped body is not a valid PKCS#10/,
    ],
  ];
  it.each(cases)('fail/%s', (_name, body, message) => {
    expectBadRequest(body(), message);
  });

  it('fail/a flood of unterminated BEGIN lines is refused in one pass', () => {
    const flood = text('-----BEGIN CERTIFICATE REQUEST-----\n'.repeat(7000));
    const started = performance.now();
    expectBadRequest(flood, /incomplete/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('fail/a malformed chunked OCTET STRING', () => {
    expect(() => constructedOctets(new Uint8Array([0x24, 0x80, 0x04, 0x05, 0x61]).buffer)).toThrow(
      /OCTET STRING/,
    );
    expect(() =>
      constructedOctets(new Uint8Array([0x24, 0x80, 0x02, 0x01, 0x00, 0x00, 0x00]).buffer),
    ).toThrow();
  });
});

/** The REST walk-through (docs/rest.md) makes its request with openssl; check those exact forms parse. */
const hasOpenssl = requireTools('openssl').available;

describe.skipIf(!hasOpenssl)('csrFromBody: requests made by openssl', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'csr-body-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };

  it('ok/the documented REST walk-through request: openssl req -outform DER on stdout, and its PEM form', () => {
    // As in docs/rest.md: `openssl req -new -newkey ec ... -outform DER | curl --data-binary @- ...`
    const piped = execFileSync(
      'openssl',
      ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem']
        .concat(['-subj', '/CN=build01.contoso.com/O=Contoso'])
        .concat(['-addext', 'subjectAltName=DNS:build01.contoso.com', '-outform', 'DER']),
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    writeFileSync(join(dir, 'req.der'), piped);
    run('req', '-in', 'req.der', '-inform', 'DER', '-out', 'req.pem');
    expect(parseCsr(csrFromBody(new Uint8Array(piped))).subjectString).toBe(
      'CN=build01.contoso.com, O=Contoso',
    );
    const der = new Uint8Array(readFileSync(join(dir, 'req.der')));
    expect(csrFromBody(der)).toEqual(der);
    expect(csrFromBody(new Uint8Array(readFileSync(join(dir, 'req.pem'))))).toEqual(der);
    expect(parseCsr(der).sans.length).toBe(1);
  });

  it('ok/openssl cms -sign over the request, DER and streamed BER', () => {
    run(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      's.key',
      '-subj',
      '/CN=signer',
      '-days',
      '1',
      '-out',
      's.pem',
    );
    const der = new Uint8Array(readFileSync(join(dir, 'req.der')));
    for (const extra of [[], ['-stream', '-indef']]) {
      run(
        'cms',
        '-sign',
        '-in',
        'req.der',
        '-binary',
        '-nodetach',
        '-signer',
        's.pem',
        '-inkey',
        's.key',
        '-outform',
        'DER',
        '-out',
        'signed.der',
        ...extra,
      );
      expect(csrFromBody(new Uint8Array(readFileSync(join(dir, 'signed.der'))))).toEqual(der);
    }
    run(
      'cms',
      '-sign',
      '-in',
      'req.der',
      '-binary',
      '-nodetach',
      '-signer',
      's.pem',
      '-inkey',
      's.key',
      '-outform',
      'PEM',
      '-out',
      'signed.pem',
    );
    expect(csrFromBody(new Uint8Array(readFileSync(join(dir, 'signed.pem'))))).toEqual(der);
  });
});
