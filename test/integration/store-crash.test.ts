import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnParser } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageType, PKIStatus } from '../../lib/scep/types.js';
import { openSqlite } from '../../lib/store/sqlite.js';
import { SqliteCertificateStore } from '../../lib/store/sqlite-certificates.js';
import { ecKey, makeCsr } from '../helpers/pki.js';
import { buildPkiMessage, readCertRep } from '../helpers/scep-client.js';
import { selfSignedClient, type ScepClientIdentity } from '../helpers/scep-flow.js';
import { searchAll } from '../unit/store-contract.js';

/**
 * Crash safety of the embedded default: the host runs as `npm start` runs it (scripts/start.mjs,
 * a child process), a burst of enrollments is under way, and the process is killed with
 * SIGKILL — no shutdown hook runs. Every certificate a client received must be in the
 * database afterwards.
 */

const CHALLENGE = 'crash-challenge-1';
const root = join(import.meta.dirname, '..', '..');
let dir: string;
let child: ChildProcess | undefined;
let signer: ScepClientIdentity;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scep-crash-'));
  signer = await selfSignedClient('crash');
});
afterAll(async () => {
  child?.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

function startHost(dataDir: string, port: number): Promise<ChildProcess> {
  const proc = spawn(process.execPath, [join(root, 'scripts', 'start.mjs')], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      AppConfig__DataDir: dataDir,
      AppConfig__StaticValidation__RequestPassword: CHALLENGE,
      LOCAL_STORE: 'sqlite',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`the host did not start: ${out}`));
    }, 120_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (out.includes('listening on')) {
        clearTimeout(timer);
        proc.stdout.resume();
        resolve(proc);
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the host exited (${String(code)}): ${out}`));
    });
  });
}

describe('crash safety of the embedded store', () => {
  it('ok/kill -9 during a burst of enrollments loses no certificate a client received', async () => {
    const dataDir = join(dir, 'data');
    const port = 20000 + Math.floor(Math.random() * 5000);
    const base = `http://127.0.0.1:${port}/scep/static`;
    const proc = await startHost(dataDir, port);
    child = proc;
    const ca = AsnParser.parse(
      new Uint8Array(await (await fetch(`${base}?operation=GetCACert`)).arrayBuffer()),
      Certificate,
    );
    const key = ecKey('P-256');
    const received: string[] = [];
    const success: number = PKIStatus.SUCCESS;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (proc.exitCode === null && proc.signalCode === null && next < 5000) {
        const i = next++;
        const msg = buildPkiMessage({
          messageType: MessageType.PKCSReq,
          transactionId: `crash-${i}`,
          content: await makeCsr({ key, subject: `CN=crash-${i}`, challenge: CHALLENGE }),
          recipients: [ca],
          signerKey: signer.key,
          signerCert: signer.signer.cert,
        });
        let body: Uint8Array;
        try {
          const res = await fetch(`${base}?operation=PKIOperation`, { method: 'POST', body: msg });
          body = new Uint8Array(await res.arrayBuffer());
          if (res.status !== 200) continue;
        } catch {
          continue; // the connection died with the process: the client got nothing
        }
        const rep = await readCertRep(body, signer.key, signer.signer.cert);
        const cert = rep.certificates[0];
        if (rep.status === success && cert) received.push(cert.serialNumber);
        if (received.length === 60) proc.kill('SIGKILL');
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    if (proc.exitCode === null && proc.signalCode === null) {
      await new Promise((r) => {
        proc.once('exit', r);
      });
    }
    expect(proc.signalCode).toBe('SIGKILL');
    expect(received.length).toBeGreaterThanOrEqual(60);

    const db = openSqlite(join(dataDir, 'ca.db'));
    try {
      const norm = (s: string): string => s.toLowerCase().replace(/^(?:00)+(?=..)/, '');
      const stored = new Set(
        (await searchAll(new SqliteCertificateStore(db), { limit: 1000 })).items.map((r) =>
          norm(r.serialNumber),
        ),
      );
      const lost = received.map(norm).filter((s) => !stored.has(s));
      expect(lost).toEqual([]);
    } finally {
      db.close();
    }
  }, 300_000);
});
