import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * An enterprise root CA made with the openssl command line, as an operator's parent CA: it signs
 * a PKCS#10 request with `openssl x509 -req` and the extensions the test asks for.
 */
export interface ParentCa {
  /** The root certificate, PEM. */
  readonly pem: string;
  /** Sign `csrPem` with these X.509v3 extension lines (openssl config syntax); returns PEM. */
  sign(csrPem: string, extensions: readonly string[]): string;
  /** A certificate for a key of its own (not the requester's), PEM. */
  readonly unrelatedPem: string;
  close(): void;
}

export const SUBORDINATE_CA = [
  'basicConstraints = critical, CA:TRUE, pathlen:0',
  'keyUsage = critical, digitalSignature, keyEncipherment, keyCertSign, cRLSign',
  'subjectKeyIdentifier = hash',
  'authorityKeyIdentifier = keyid',
];

export function startParentCa(subject = '/O=tests/CN=Contoso Enterprise Root'): ParentCa {
  const dir = mkdtempSync(join(tmpdir(), 'parent-ca-'));
  const openssl = (...args: string[]): string =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  // prettier-ignore
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'root.key', '-out', 'root.pem',
    '-days', '3650', '-subj', subject, '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  // prettier-ignore
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other.key', '-out', 'other.pem',
    '-days', '365', '-subj', '/CN=Someone else', '-addext', 'basicConstraints=critical,CA:TRUE');
  let serial = 0x1000;
  return {
    pem: readFileSync(join(dir, 'root.pem'), 'utf8'),
    unrelatedPem: readFileSync(join(dir, 'other.pem'), 'utf8'),
    sign(csrPem, extensions) {
      writeFileSync(join(dir, 'req.csr'), csrPem);
      writeFileSync(join(dir, 'ext.cnf'), `[ext]\n${extensions.join('\n')}\n`);
      // prettier-ignore
      return openssl('x509', '-req', '-in', 'req.csr', '-CA', 'root.pem', '-CAkey', 'root.key',
        '-set_serial', String(serial++), '-days', '1825', '-sha256', '-extfile', 'ext.cnf', '-extensions', 'ext');
    },
    close: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
