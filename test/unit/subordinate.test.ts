import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { certificatesIn, chooseSubordinate } from '../../lib/ca/subordinate.js';
import { isAppError } from '../../lib/errors.js';
import { startParentCa, type ParentCa } from '../helpers/parent-ca.js';
import { requireTools } from '../helpers/tools.js';

/**
 * What an operator hands back from a parent CA, in the forms the openssl command line (and
 * Active Directory Certificate Services: `.cer`, `.p7b`) produce.
 */
const tools = requireTools('openssl');

describe.runIf(tools.available)(
  `certificates from a parent CA${tools.available ? '' : ` — skipped: ${tools.reason}`}`,
  () => {
    let parent: ParentCa | undefined;
    const ca = (): ParentCa => (parent ??= startParentCa());
    afterAll(() => parent?.close());
    const der = (pem: string): Uint8Array => new Uint8Array(new X509Certificate(pem).raw);
    const code = (f: () => unknown): string => {
      try {
        f();
        return 'none';
      } catch (e) {
        return isAppError(e) ? `${e.code}: ${e.message}` : String(e);
      }
    };

    it('ok/reads PEM chains, one DER certificate and a certs-only PKCS#7 (DER and PEM)', () => {
      const { pem, unrelatedPem } = ca();
      expect(certificatesIn(Buffer.from(unrelatedPem + pem)).map((c) => Buffer.from(c))).toEqual([
        Buffer.from(der(unrelatedPem)),
        Buffer.from(der(pem)),
      ]);
      expect(certificatesIn(der(pem))).toEqual([der(pem)]);
      const dir = mkdtempSync(join(tmpdir(), 'p7b-'));
      writeFileSync(join(dir, 'chain.pem'), unrelatedPem + pem);
      writeFileSync(join(dir, 'root.pem'), pem);
      const p7b = (file: string, form: string): Uint8Array =>
        new Uint8Array(
          execFileSync('openssl', ['crl2pkcs7', '-nocrl', '-certfile', file, '-outform', form], { cwd: dir }),
        );
      expect(certificatesIn(p7b('chain.pem', 'DER')).length).toBe(2);
      const p7bPem = p7b('root.pem', 'PEM');
      rmSync(dir, { recursive: true, force: true });
      expect(certificatesIn(new Uint8Array(p7bPem))).toEqual([der(pem)]);
    });

    it('fail/garbage, an empty body and a broken certificate are BAD_REQUEST', () => {
      expect(code(() => certificatesIn(new Uint8Array()))).toMatch(/^BAD_REQUEST: no certificate/);
      expect(code(() => certificatesIn(Buffer.from('hello')))).toMatch(/^BAD_REQUEST: no certificate found/);
      expect(code(() => certificatesIn(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01])))).toMatch(
        /^BAD_REQUEST: the body is neither a certificate nor a PKCS#7/,
      );
      const broken = '-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n';
      expect(code(() => certificatesIn(Buffer.from(broken)))).toBe(
        'BAD_REQUEST: certificate 1 is not a valid X.509 certificate',
      );
    });

    it('fail/an expired CA certificate for the pending key is refused', () => {
      const { pem } = ca();
      const x = new X509Certificate(pem);
      const spki = new Uint8Array(x.publicKey.export({ format: 'der', type: 'spki' }));
      expect(chooseSubordinate([der(pem)], spki, new Date()).chainDer).toEqual([]);
      const later = new Date(Date.parse(x.validTo) + 1000);
      expect(code(() => chooseSubordinate([der(pem)], spki, later))).toMatch(/^BAD_REQUEST: .*expired/);
    });
  },
);
