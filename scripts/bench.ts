import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { postBytes, waitForLine } from './local/bench-http.js';
import { AsnParser } from '@peculiar/asn1-schema';
import { ContentInfo, SignedData } from '@peculiar/asn1-cms';
import { Certificate } from '@peculiar/asn1-x509';
import { createRootCertificate } from '../lib/ca/root.js';
import { buildCsr } from '../lib/csr/build.js';
import { LocalKey } from '../lib/keys/local.js';
import { buildPkiMessage, readCertRep } from '../testkit/scep-client.js';
import { MessageType, PKIStatus } from '../lib/scep/types.js';
import { preload, timeQueries, type QueryTiming } from './bench-store.js';
import { benchRaOperations } from './bench-ra.js';
import { printQueries, printTable, type Row, type Target } from './local/bench-report.js';

/**
 * `npm run bench`: SCEP enrollments/s and latency against the local host (RSA-2048, client keys
 * generated before timing): the embedded default (SQLite in the data folder) on an empty store
 * and on a store pre-loaded with BENCH_PRELOAD certificate records (written straight into the
 * database file before the host starts), side by side with micromdm's scepserver when it can
 * be started (Debian package `scep`; it binds to all interfaces, so it is only started through
 * a loopback-only wrapper script named by SCEP_PEER_SCRIPT, called as `start PORT CHALLENGE DIR`
 * and `stop PORT - DIR`).
 * Then times the management queries on the pre-loaded store, and counts the Key Vault operations
 * of an RA-mode enrollment (scripts/bench-ra.ts). Loopback only, every request
 * time-boxed, a hard overall time limit. Every server first answers BENCH_WARMUP enrollments
 * that are not timed (the same number for each, micromdm's included), so that the rows compare
 * warmed-up processes rather than a JIT's first minutes; the host's start time has its own line.
 * A first row per server times the first BENCH_TOTAL enrollments after its start, before the
 * warm-up (BENCH_FIRST=0 leaves it out): what a user sees right after `npm start`.
 * Environment: BENCH_TOTAL (300), BENCH_CONCURRENCY ("4"), BENCH_KEYS (16), BENCH_WARMUP (200),
 * BENCH_MAX_SECONDS (900), BENCH_STORE (sqlite; also memory, cosmos), BENCH_PRELOAD (100000;
 * 0 skips the pre-loaded run), BENCH_HOST_NODE_ARGS (space-separated Node options for the host, e.g. `--cpu-prof`).
 */
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', existsSync(join(here, '..', 'host.json')) ? '' : '..');
const TOTAL = Number(process.env.BENCH_TOTAL ?? 300);
const LEVELS = (process.env.BENCH_CONCURRENCY ?? '4').split(',').map(Number);
const KEYS = Number(process.env.BENCH_KEYS ?? 16);
const MAX_SECONDS = Number(process.env.BENCH_MAX_SECONDS ?? 900);
const PRELOAD = Number(process.env.BENCH_PRELOAD ?? 100_000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 200);
const FIRST = (process.env.BENCH_FIRST ?? '1') !== '0';
const CHALLENGE = `bench-${randomBytes(6).toString('hex')}`;

async function main(): Promise<void> {
  const deadline = setTimeout(() => {
    process.stderr.write(`bench: hit BENCH_MAX_SECONDS=${MAX_SECONDS}\n`);
    process.exit(2);
  }, MAX_SECONDS * 1000);
  deadline.unref();
  const clients = Array.from(
    { length: KEYS },
    () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
  ).map((key, n) => ({ key, signer: new LocalKey(key, `client-${n}`) }));
  const identities = await Promise.all(
    clients.map(async (c) => {
      const der = await createRootCertificate({ signer: c.signer, subject: 'CN=SCEP SIGNER', days: 2 });
      return { ...c, cert: AsnParser.parse(der, Certificate) };
    }),
  );
  const targets: Target[] = [];
  const stores = (process.env.BENCH_STORE ?? 'sqlite').split(',');
  for (const store of stores) targets.push(await startOurs(store));
  let queries: QueryTiming[] = [];
  let preloadMs = 0;
  if (PRELOAD > 0) {
    const dataDir = mkdtempSync(join(tmpdir(), 'scep-bench-'));
    preloadMs = preload(dataDir, PRELOAD);
    targets.push(await startOurs('sqlite', { dataDir, size: PRELOAD }));
    queries = await timeQueries(dataDir, PRELOAD);
  }
  const peer = await startPeer();
  if (peer) targets.push(peer);
  const rows: Row[] = [];
  try {
    for (const t of targets) {
      const ca = await caCertificate(t.url);
      const messages = (label: string, n: number): Promise<Message[]> =>
        Promise.all(Array.from({ length: n }, (_, i) => pkcsReq(identities, ca, `${label}-${i}`)));
      const first = LEVELS[0] ?? 4;
      // What a user sees right after a start: the JIT has not compiled the request path yet.
      if (FIRST) rows.push(await run(t, first, await messages('first', TOTAL), 'first'));
      // Untimed, the same for every server: the other rows compare warmed-up processes.
      if (WARMUP > 0) await run(t, first, await messages('warmup', WARMUP));
      for (const c of LEVELS) rows.push(await run(t, c, await messages(String(c), TOTAL)));
    }
  } finally {
    for (const t of targets) await t.stop();
  }
  printTable(rows, targets, { total: TOTAL, warmup: WARMUP });
  if (queries.length > 0) printQueries(queries, preloadMs, PRELOAD);
  for (const line of await benchRaOperations()) process.stdout.write(`${line}\n`);
}

interface Identity {
  readonly key: KeyObject;
  readonly signer: LocalKey;
  readonly cert: Certificate;
}

interface Message {
  readonly der: Uint8Array;
  readonly id: Identity;
}

/** A PKCSReq for a fresh subject and transaction, signed by one of the requester identities. */
async function pkcsReq(identities: readonly Identity[], ca: Certificate, label: string): Promise<Message> {
  const id = identities[Math.floor(Math.random() * identities.length)];
  if (!id) throw new Error('bench: no requester identities');
  const csr = await buildCsr({
    signer: id.signer,
    subject: `CN=bench-${label}-${randomUUID()}, O=Bench`,
    challenge: CHALLENGE,
  });
  const der = buildPkiMessage({
    messageType: MessageType.PKCSReq,
    transactionId: randomUUID(),
    content: csr,
    recipients: [ca],
    signerKey: id.key,
    signerCert: id.cert,
    cipher: 'AES-128-CBC',
  });
  return { der, id };
}

async function run(
  t: Target,
  concurrency: number,
  messages: readonly Message[],
  phase: Row['phase'] = 'warm',
): Promise<Row> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  const replies = new Array<Uint8Array | undefined>(messages.length);
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < messages.length) {
        const i = next++;
        const message = messages[i];
        if (!message) throw new Error(`bench: no message ${i}`);
        const s = process.hrtime.bigint();
        replies[i] = await postBytes(
          agent,
          `${t.url}?operation=PKIOperation`,
          message.der,
          'application/x-pki-message',
        ).catch(() => undefined);
        latencies.push(Number(process.hrtime.bigint() - s) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  agent.destroy();
  const { ok, duplicates } = await tally(messages, replies);
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return {
    target: t.name,
    phase,
    size: t.size,
    concurrency,
    ok,
    failed: messages.length - ok,
    perSecond: ok / seconds,
    p50: pct(50),
    p99: pct(99),
    duplicates,
  };
}

/** Successful CertReps (each decrypted and read) and serial numbers issued more than once. */
async function tally(
  messages: readonly Message[],
  replies: readonly (Uint8Array | undefined)[],
): Promise<{ ok: number; duplicates: number }> {
  let ok = 0;
  const serials = new Map<string, number>();
  const success: number = PKIStatus.SUCCESS;
  for (const [i, m] of messages.entries()) {
    const r = replies[i];
    if (!r) continue;
    try {
      const rep = await readCertRep(r, m.id.key, m.id.cert);
      const cert = rep.certificates[0];
      if (rep.status === success && cert) {
        ok++;
        serials.set(cert.serialNumber, (serials.get(cert.serialNumber) ?? 0) + 1);
      }
    } catch {
      /* counted as failed */
    }
  }
  return { ok, duplicates: [...serials.values()].reduce((a, n) => a + n - 1, 0) };
}

async function caCertificate(url: string): Promise<Certificate> {
  const res = await fetch(`${url}?operation=GetCACert&message=bench`);
  const der = new Uint8Array(await res.arrayBuffer());
  if ((res.headers.get('content-type') ?? '').includes('ra-cert')) {
    const sd = AsnParser.parse(AsnParser.parse(der, ContentInfo).content, SignedData);
    const first = sd.certificates?.[0]?.certificate;
    if (!first) throw new Error(`no certificate in GetCACert of ${url}`);
    return first;
  }
  return AsnParser.parse(der, Certificate);
}

async function startOurs(store: string, preloaded?: { dataDir: string; size: number }): Promise<Target> {
  const dataDir = preloaded?.dataDir ?? mkdtempSync(join(tmpdir(), 'scep-bench-'));
  const port = 17000 + Math.floor(Math.random() * 2000);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    AppConfig__DataDir: dataDir,
    AppConfig__StaticValidation__RequestPassword: CHALLENGE,
    LOCAL_STORE: store,
  };
  const t0 = performance.now();
  const nodeArgs = (process.env.BENCH_HOST_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, join(root, 'dist', 'scripts', 'host.js')], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await waitForLine(child, /listening on/);
  const startMs = performance.now() - t0;
  const size = preloaded?.size ?? 0;
  return {
    name: `azure-scep-ca (${store === 'sqlite' ? 'embedded default' : `${store} store`})`,
    url: `http://127.0.0.1:${port}/scep/static`,
    size,
    startMs,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function startPeer(): Promise<Target | undefined> {
  const script =
    process.env.SCEP_PEER_SCRIPT ?? resolve(root, '..', 'shared', 'interop', 'peer-micromdm-server.sh');
  if (!existsSync(script)) {
    process.stderr.write(`bench: no peer comparison (${script} not found; set SCEP_PEER_SCRIPT)\n`);
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'scep-peer-'));
  const port = 19000 + Math.floor(Math.random() * 1000);
  const code = await new Promise<number>((r) =>
    spawn('bash', [script, 'start', String(port), CHALLENGE, dir], {
      stdio: ['ignore', 'ignore', 'inherit'],
    }).on('exit', (c) => {
      r(c ?? 1);
    }),
  );
  if (code !== 0) {
    process.stderr.write('bench: micromdm peer did not start; no peer comparison\n');
    return undefined;
  }
  return {
    name: 'micromdm scepserver 2.1.0',
    url: `http://127.0.0.1:${port}/scep`,
    size: 0,
    stop: async () => {
      await new Promise((r) =>
        spawn('bash', [script, 'stop', String(port), '-', dir], { stdio: 'ignore' }).on('exit', r),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
