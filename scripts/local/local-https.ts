import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GeneralName } from '@peculiar/asn1-x509';
import type { CertificateIssuer } from '../../lib/ca/issue.js';
import { buildCsr } from '../../lib/csr/build.js';
import { parseCsr } from '../../lib/csr/parse.js';
import { LocalKey } from '../../lib/keys/local.js';
import { certView } from '../../lib/x509/cert-view.js';
import { startFrontEnd, type FrontEnd } from './tls-front.js';

/**
 * `npm start` over HTTPS as well, opt-in (`HTTPS_PORT=7443` or `AppConfig__Local__HttpsPort`):
 * the App Service-like front end of tls-front.ts on that port, so renewal with a client
 * certificate (REST `api/csr`, EST `simplereenroll`) can be tried on a laptop. Its server
 * certificate (CN=localhost, DNS:localhost, IP:127.0.0.1, serverAuth) is issued by the local CA
 * and kept under `<data>/local-https/`, re-issued when it is near its end or the CA changed.
 */
export interface LocalHttps extends FrontEnd {
  readonly caFile: string;
  readonly certificateFile: string;
}

const DAY = 86_400_000;

/** The port from HTTPS_PORT / AppConfig__Local__HttpsPort. */
function httpsPortSetting(env: Readonly<Record<string, string | undefined>>): number {
  const v = env.AppConfig__Local__HttpsPort ?? env.HTTPS_PORT ?? '';
  const port = Number(v);
  if (v.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`HTTPS_PORT / AppConfig__Local__HttpsPort: expected a port number, got "${v}"`);
  }
  return port;
}

export async function startLocalHttps(
  app: {
    readonly issuer: CertificateIssuer;
    readonly settings: { readonly rest: { readonly clientCertificateHeader: string | undefined } };
  },
  o: {
    /** Undefined: from the settings. */
    readonly port: number | undefined;
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly target: string;
    readonly dataDir: string;
    readonly quiet?: boolean | undefined;
  },
): Promise<LocalHttps> {
  const dir = join(o.dataDir, 'local-https');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { key, cert } = await serverCertificate(app.issuer, dir);
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, new X509Certificate(app.issuer.ca.der).toString());
  const port = o.port ?? httpsPortSetting(o.env);
  const front = await startFrontEnd({ target: o.target, key, cert, port });
  const trustedHeader = app.settings.rest.clientCertificateHeader;
  const certificateFile = join(dir, 'server.pem');
  if (!o.quiet) {
    const x = new X509Certificate(cert);
    const lines = [
      `  HTTPS:           ${front.url} (client certificate optional, forwarded in X-ARR-ClientCert)`,
      `  TLS certificate: ${certificateFile} (${x.subject}, issued by the local CA)`,
      `  TLS SHA-256:     ${x.fingerprint256.replaceAll(':', '')}`,
      `  Trust it with:   curl --cacert ${caFile} (or CURL_CA_BUNDLE=${caFile})`,
      ...(trustedHeader === 'x-arr-clientcert'
        ? []
        : ['  Renewal over mTLS needs AppConfig__DbCSRValidation__ClientCertificateHeader=X-ARR-ClientCert']),
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return { ...front, caFile, certificateFile };
}

async function serverCertificate(
  issuer: CertificateIssuer,
  dir: string,
): Promise<{ key: string; cert: string }> {
  const keyFile = join(dir, 'server.key.pem');
  const certFile = join(dir, 'server.pem');
  const existing = await Promise.all([readFile(keyFile, 'utf8'), readFile(certFile, 'utf8')]).catch(
    () => undefined,
  );
  if (existing) {
    const [key, cert] = existing;
    try {
      const x = new X509Certificate(cert);
      const fresh = new Date(x.validTo).getTime() > Date.now() + 7 * DAY;
      if (fresh && x.checkPrivateKey(createPrivateKey(key)) && issuer.issuedByUs(certView(x.raw)))
        return { key, cert };
    } catch {
      // unreadable: issue a new one
    }
  }
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const csr = await buildCsr({
    signer: new LocalKey(privateKey, 'local-https'),
    subject: 'CN=localhost',
    sans: [new GeneralName({ dNSName: 'localhost' }), new GeneralName({ iPAddress: '127.0.0.1' })],
  });
  const issued = await issuer.issue(parseCsr(csr), {
    validityDays: 90,
    keyUsage: ['DigitalSignature'],
    ekus: ['1.3.6.1.5.5.7.3.1'],
  });
  const key = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const cert = new X509Certificate(issued.der).toString();
  await writeFile(keyFile, key, { mode: 0o600 });
  await writeFile(certFile, cert);
  return { key, cert };
}
