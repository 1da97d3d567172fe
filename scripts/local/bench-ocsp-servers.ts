import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { AsnParser } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { waitForLine } from './bench-http.js';
import { createRootCertificate } from '../../lib/ca/root.js';
import { buildCsr } from '../../lib/csr/build.js';
import { LocalKey } from '../../lib/keys/local.js';
import { MessageType, PKIStatus } from '../../lib/scep/types.js';
import { buildPkiMessage, readCertRep } from '../../testkit/scep-client.js';

/**
 * The two OCSP responders `npm run bench:ocsp` (scripts/bench-ocsp.ts) compares, and the one
 * certificate they answer for: the local host as `npm start` runs it, and OpenSSL's responder
 * over an index holding the same certificate.
 */

/** The local host (embedded store, as `npm start`) with a fresh data folder. */
export async function startHost(
  root: string,
  dataDir: string,
  challenge: string,
): Promise<{ url: string; stop(): Promise<void> }> {
  const port = 17000 + Math.floor(Math.random() * 2000);
  const nodeArgs = (process.env.BENCH_HOST_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, join(root, 'dist', 'scripts', 'host.js')], {
    env: {
      ...process.env,
      PORT: String(port),
      AppConfig__DataDir: dataDir,
      AppConfig__StaticValidation__RequestPassword: challenge,
      LOCAL_STORE: 'sqlite', // what npm start uses
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await waitForLine(child, /listening on/);
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** One certificate from the static endpoint, as a SCEP client gets it (PEM). */
export async function enroll(baseUrl: string, challenge: string): Promise<string> {
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const signer = new LocalKey(key, 'bench-client');
  const signerCert = AsnParser.parse(
    await createRootCertificate({ signer, subject: 'CN=SCEP SIGNER', days: 1 }),
    Certificate,
  );
  const caDer = new Uint8Array(await (await fetch(`${baseUrl}/ca.cer`)).arrayBuffer());
  const csr = await buildCsr({ signer, subject: 'CN=ocsp-bench-device', challenge });
  const message = buildPkiMessage({
    messageType: MessageType.PKCSReq,
    transactionId: randomBytes(8).toString('hex'),
    content: csr,
    recipients: [AsnParser.parse(caDer, Certificate)],
    signerKey: key,
    signerCert,
    cipher: 'AES-128-CBC',
  });
  const res = await fetch(`${baseUrl}/scep/static?operation=PKIOperation`, { method: 'POST', body: message });
  const rep = await readCertRep(new Uint8Array(await res.arrayBuffer()), key, signerCert);
  const cert = rep.certificates[0];
  const success: number = PKIStatus.SUCCESS;
  if (rep.status !== success || !cert) throw new Error('bench: enrollment failed');
  return cert.toString();
}

/**
 * `openssl ocsp -multi 2` over an index with work/cert.pem, signing with the CA key itself
 * (work/ca.pem, work/data/ca/ca.key.pem). It has no bind address option: it listens on all
 * interfaces for the few seconds it runs.
 */
export function startOpensslResponder(work: string): {
  url: string;
  ready: Promise<void>;
  log(): string;
  stop(): void;
} {
  const cert = new X509Certificate(readFileSync(join(work, 'cert.pem')));
  const yymmdd = new Date(cert.validTo).toISOString().replace(/[-:T]/g, '').slice(2, 14);
  const subject = `/${cert.subject.split('\n').join('/')}`;
  writeFileSync(join(work, 'index.txt'), `V\t${yymmdd}Z\t\t${cert.serialNumber}\tunknown\t${subject}\n`);
  const port = 18300 + Math.floor(Math.random() * 500);
  const ca = join(work, 'ca.pem');
  const key = join(work, 'data', 'ca', 'ca.key.pem');
  const index = join(work, 'index.txt');
  const child = spawn(
    'openssl',
    [
      'ocsp',
      '-index',
      index,
      '-port',
      String(port),
      '-rsigner',
      ca,
      '-rkey',
      key,
      '-CA',
      ca,
      '-multi',
      '2',
      '-ignore_err',
    ],
    { stdio: ['ignore', 'ignore', openSync(join(work, 'peer.log'), 'w')] },
  );
  return {
    url: `http://127.0.0.1:${port}/`,
    ready: waitForPort(port),
    log: () => readFileSync(join(work, 'peer.log'), 'utf8'),
    stop: () => {
      // The responder forks (-multi): stop its children (by parent id), then it.
      if (child.pid !== undefined) spawnSync('pkill', ['-P', String(child.pid)]);
      child.kill('SIGTERM');
    },
  };
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const up = await new Promise<boolean>((r) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        r(true);
      }).on('error', () => {
        r(false);
      });
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port}`);
}
