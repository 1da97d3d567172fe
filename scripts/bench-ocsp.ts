import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { enroll, startHost, startOpensslResponder } from './local/bench-ocsp-servers.js';
import { KeepAliveClient } from './local/keep-alive-client.js';
import { createRootCertificate } from '../lib/ca/root.js';
import { LocalKey } from '../lib/keys/local.js';
import { buildCrl } from '../lib/revocation/crl.js';
import { ResponderCertificates } from '../lib/revocation/responder.js';
import { MemoryCertificateStore } from '../lib/store/memory.js';
import type { CertificateRecord } from '../lib/store/types.js';

/**
 * `npm run bench:ocsp`: revocation speed.
 *
 * 1. OCSP responses/s and latency against the local host (`npm start`'s server and embedded store),
 *    POST, keep-alive, concurrency 16, side by side in the same run with OpenSSL's own responder
 *    (`openssl ocsp -index … -rsigner … -multi 2`, signing with the same CA key) serving the
 *    same certificate and request. OpenSSL's responder listens on all interfaces (it has no
 *    bind address option) for the few seconds it runs; BENCH_OCSP_PEER=0 leaves it out.
 * 2. The cost of one response when nothing is cached (a fresh nonce each time): in process.
 * 3. A full CRL of BENCH_CRL_ENTRIES (100,000) revoked certificates: time to generate.
 *
 * Each server first answers BENCH_OCSP_WARMUP requests that are not timed (both the same), so
 * that the rows compare steady states rather than a freshly started process's JIT warm-up; the
 * cold cost has its own row.
 *
 * Environment: BENCH_HOST_NODE_ARGS (space-separated Node options for the host), BENCH_OCSP_TOTAL (5000), BENCH_OCSP_CONCURRENCY (16), BENCH_OCSP_WARMUP (2000),
 * BENCH_CRL_ENTRIES (100000).
 */
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', existsSync(join(here, '..', 'host.json')) ? '' : '..');
const TOTAL = Number(process.env.BENCH_OCSP_TOTAL ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_OCSP_CONCURRENCY ?? 16);
const CRL_ENTRIES = Number(process.env.BENCH_CRL_ENTRIES ?? 100_000);
const WARMUP = Number(process.env.BENCH_OCSP_WARMUP ?? 2000);
const CHALLENGE = `bench-${randomBytes(6).toString('hex')}`;

interface Load {
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly ok: number;
  readonly failed: number;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'bench-ocsp-'));
  const lines: string[] = [];
  try {
    const ours = await startHost(root, join(work, 'data'), CHALLENGE);
    let cert: string;
    let req: Uint8Array;
    let ourLoad: Load;
    let nonceLoad: Load;
    let coldLoad: Load;
    try {
      cert = await enroll(ours.url, CHALLENGE);
      writeFileSync(join(work, 'cert.pem'), cert);
      writeFileSync(join(work, 'ca.pem'), readFileSync(join(work, 'data', 'ca', 'ca.pem')));
      const args = ['ocsp', '-issuer', join(work, 'ca.pem'), '-cert', join(work, 'cert.pem')];
      execFileSync('openssl', [...args, '-no_nonce', '-reqout', join(work, 'req.der')], { stdio: 'ignore' });
      req = readFileSync(join(work, 'req.der'));
      await load(`${ours.url}/ocsp`, () => req, CONCURRENCY, WARMUP);
      ourLoad = await load(`${ours.url}/ocsp`, () => req);
      const nonces = withNonce(work, args);
      nonceLoad = await load(`${ours.url}/ocsp`, nonces);
      coldLoad = await load(`${ours.url}/ocsp`, nonces, 1, 300);
    } finally {
      await ours.stop();
    }
    lines.push(row('azure-scep-ca (pre-signed, no nonce)', ourLoad));
    lines.push(row('azure-scep-ca (nonce: signed per request)', nonceLoad));
    lines.push(row('azure-scep-ca (nonce, one at a time: cold cost)', coldLoad, 1));
    const peer = process.env.BENCH_OCSP_PEER === '0' ? undefined : await peerLoad(work, req);
    if (peer) lines.push(row('openssl ocsp -multi 2 (same CA)', peer));
    process.stdout.write(`\n${header()}\n${lines.join('\n')}\n`);
    if (peer) {
      process.stdout.write(
        `\nratio at concurrency ${CONCURRENCY}: ${(ourLoad.perSecond / peer.perSecond).toFixed(2)}x openssl ocsp (goal >= 3, p99 < 10 ms)\n`,
      );
    }
    await responderCost();
    await crlCost();
    process.stdout.write(
      `(${TOTAL} requests per row after ${WARMUP} untimed ones, keep-alive, nproc=${availableParallelism()})\n`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A fresh nonce per request costs openssl a process; pre-build a pool and cycle through it. */
function withNonce(work: string, args: string[]): () => Uint8Array {
  const pool = Array.from({ length: 64 }, (_, i) => {
    const file = join(work, `nonce-${i}.der`);
    execFileSync('openssl', [...args, '-nonce', '-reqout', file], { stdio: 'ignore' });
    return readFileSync(file);
  });
  let i = 0;
  return () => pool[i++ % pool.length] ?? new Uint8Array(0);
}

/** The one cost paid once per instance: a responder key and the CA's signature on its certificate. */
async function responderCost(): Promise<void> {
  const signer = new LocalKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, 'bench-ca');
  const caDer = await createRootCertificate({ signer, subject: 'CN=Bench CA', days: 30 });
  const responder = new ResponderCertificates({
    certificateDer: caDer,
    chainDer: [],
    signer,
    decrypter: signer,
  });
  const t0 = performance.now();
  await responder.get();
  process.stdout.write(
    `\nresponder certificate at an instance's first OCSP request (RSA-2048 key + one CA signature): ${(performance.now() - t0).toFixed(1)} ms\n`,
  );
}

async function crlCost(): Promise<void> {
  const signer = new LocalKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, 'bench-ca');
  const caDer = await createRootCertificate({ signer, subject: 'CN=Bench CA', days: 30 });
  const store = new MemoryCertificateStore();
  const notAfter = new Date(Date.now() + 365 * 86_400_000).toISOString();
  for (let n = 0; n < CRL_ENTRIES; n++) {
    const serial = randomBytes(16);
    serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01;
    const r = await store.create(benchRecord(serial.toString('hex'), notAfter));
    if (r.created)
      await store.update(r.record, {
        status: 'revoked',
        revocation: { reason: 'keyCompromise', date: new Date().toISOString() },
      });
  }
  const t0 = performance.now();
  const der = await buildCrl({
    caCertificateDer: caDer,
    signer,
    thisUpdate: new Date(),
    nextUpdate: new Date(Date.now() + 7 * 86_400_000),
    crlNumber: BigInt(Date.now()),
    entries: store.listRevoked('CN=Bench CA'),
  });
  const ms = performance.now() - t0;
  process.stdout.write(
    `CRL with ${CRL_ENTRIES} revoked entries: generated in ${ms.toFixed(0)} ms, ${(der.length / 1e6).toFixed(2)} MB (goal < 10 s)\n`,
  );
}

function benchRecord(serialNumber: string, notAfter: string): CertificateRecord {
  return {
    serialNumber,
    thumbprintSha1: '',
    thumbprintSha256: serialNumber,
    subject: `CN=${serialNumber}`,
    sans: [],
    issuer: 'CN=Bench CA',
    notBefore: new Date().toISOString(),
    notAfter,
    endpoint: 'static',
    authorization: 'static',
    publicKeySha256: '',
    status: 'issued',
    der: '',
    createdAt: new Date().toISOString(),
  };
}

/**
 * POST `body()` TOTAL times at `concurrency`, one keep-alive connection per worker; a response
 * counts when it is a successful OCSPResponse. The client is KeepAliveClient rather than
 * node:http so that, on a small machine, the load generator's own CPU does not set the pace.
 */
async function load(
  url: string,
  body: () => Uint8Array,
  concurrency = CONCURRENCY,
  total = TOTAL,
): Promise<Load> {
  const latencies: number[] = [];
  let sent = 0;
  let ok = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      const client = new KeepAliveClient(url);
      try {
        while (sent < total) {
          sent++;
          const s = performance.now();
          const res = await client.post(body(), 'application/ocsp-request').catch(() => undefined);
          latencies.push(performance.now() - s);
          if (res && res.status === 200 && successful(res.body)) ok++;
        }
      } finally {
        client.close();
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { perSecond: ok / seconds, p50: pct(0.5), p99: pct(0.99), ok, failed: total - ok };
}

/** OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED (0 = successful), ... } */
function successful(der: Uint8Array): boolean {
  const len = der[1] ?? 0;
  const h = len & 0x80 ? 2 + (len & 0x7f) : 2;
  return der[0] === 0x30 && der[h] === 0x0a && der[h + 1] === 1 && der[h + 2] === 0;
}

/** OpenSSL's responder over an index with the same certificate, signing with the CA key itself. */
async function peerLoad(work: string, req: Uint8Array): Promise<Load | undefined> {
  const peer = startOpensslResponder(work);
  try {
    await peer.ready;
    await load(peer.url, () => req, CONCURRENCY, WARMUP);
    return await load(peer.url, () => req);
  } catch (e) {
    process.stderr.write(`bench: openssl ocsp peer failed: ${String(e)}\n${peer.log()}\n`);
    return undefined;
  } finally {
    peer.stop();
  }
}

function header(): string {
  return `${'server'.padEnd(50)} ${'conc'.padStart(4)} ${'ocsp/s'.padStart(9)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'ok'.padStart(6)} ${'failed'.padStart(6)}`;
}

function row(name: string, l: Load, concurrency = CONCURRENCY): string {
  return `${name.padEnd(50)} ${String(concurrency).padStart(4)} ${l.perSecond.toFixed(1).padStart(9)} ${l.p50.toFixed(2).padStart(7)} ${l.p99.toFixed(2).padStart(7)} ${String(l.ok).padStart(6)} ${String(l.failed).padStart(6)}`;
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
