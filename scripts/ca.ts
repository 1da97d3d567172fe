import 'reflect-metadata';
import { createHash, X509Certificate as NodeX509 } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { TokenCredential } from '@azure/identity';
import { X509Certificate } from '@peculiar/x509';
import { keyVaultSection, type KeyVaultSettings } from '../lib/config/keyvault.js';
import { describeError, isAppError } from '../lib/errors.js';
import { jsonLogger, type Logger } from '../lib/log.js';
import { createAzureCredential } from '../lib/keys/credential.js';
import type { VaultClientOptions } from '../lib/keys/keyvault.js';
import {
  initRootCa,
  importSubordinate,
  readCaState,
  subordinateCsr,
} from '../lib/keys/keyvault-bootstrap.js';
import { vaultContext, type VaultContext } from '../lib/keys/keyvault-ca.js';
import { certificatesIn } from '../lib/ca/subordinate.js';
import { pemBlock } from '../lib/x509/pem.js';
import { NEXT_CHAIN_SETTING, nextCaName } from '../lib/keys/keyvault-next-ca.js';
import { runAdmin, type AdminCliDeps } from './admin.js';

const USAGE = `Usage: npm run ca -- <command>

  init              create the CA key in Key Vault (non-exportable) and a self-signed root CA
                    certificate signed through Key Vault; does nothing if the CA already exists
  csr [FILE]        create the CA key and a PKCS#10 request for an enterprise root to sign
                    (PEM to FILE, or to stdout)
  import FILE...    merge the signed CA certificate and its chain (PEM or DER files)
  show              print the CA certificate: subject, validity, fingerprints
  next-init [SUBJECT]
                    create the next CA ahead of a rollover (certificate "<CertificateName>-next":
                    a new non-exportable key and a self-signed root, default subject as
                    configured); GetCACaps then lists GetNextCACert; does nothing if it exists
  next-csr [--subject SUBJECT] [FILE]
                    create the next CA's key (certificate "<CertificateName>-next", new and
                    non-exportable) and a PKCS#10 request for an external parent CA to sign
                    (default subject as configured; PEM to FILE, or to stdout)
  next-import FILE...
                    merge the parent-signed next CA certificate and its chain (PEM, DER or
                    PKCS#7 files); GetCACaps then lists GetNextCACert
  next-show         print the next CA certificate
  next-activate [--url URL] [--key KEY] [--json]
                    make the next CA the issuing CA (through the running app's management API,
                    as \`npm run admin -- ca next-activate\`: the activation is recorded in the
                    app's store; --url default http://127.0.0.1:7071, --key an Entra ID access
                    token with CA.Admin in Azure, locally the admin key of the data folder)

Settings (environment): AppConfig__KeyVaultConfig__KeyVaultURL (required),
AppConfig__KeyVaultConfig__RootCertificateConfig__CertificateName (scep-ca), __Subject,
__KeySize (4096), __KeyType (RSA-HSM; RSA for a Standard vault), __DaysExpiresIn (3650).
The identity running this needs Key Vault Certificates Officer and Key Vault Crypto User.`;

export interface CaCliDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly credential?: TokenCredential;
  readonly clientOptions?: VaultClientOptions;
  readonly readFile?: (path: string) => Promise<Uint8Array>;
  readonly writeFile?: (path: string, text: string) => Promise<void>;
  readonly now?: Date;
  /** Where retries and failures of Key Vault calls are logged (default: JSON lines on stderr). */
  readonly log?: Logger;
  /** How `next-activate` reaches the management API (default: global fetch). */
  readonly fetch?: AdminCliDeps['fetch'];
}

/** Run one CA command; returns the process exit code (0 ok, 1 failed, 2 usage or settings). */
export async function runCa(argv: readonly string[], d: CaCliDeps): Promise<number> {
  const [command, ...args] = argv;
  // Activation writes the app's store, which this CLI does not open: the management API does it.
  if (command === 'next-activate') return runAdmin(['ca', 'next-activate', ...args], d);
  if (command === '--help' || command === '-h' || command === 'help') {
    d.out(USAGE);
    return 0;
  }
  if (command === undefined || !Object.hasOwn(commands, command)) {
    d.err(USAGE);
    return 2;
  }
  const parsed = keyVaultSection(d.env);
  if (!parsed.ok || parsed.value.url === undefined) {
    const problems = parsed.ok
      ? ['AppConfig__KeyVaultConfig__KeyVaultURL: required for the CA commands']
      : parsed.problems;
    d.err(`Invalid settings:\n  - ${problems.join('\n  - ')}`);
    return 2;
  }
  const s = parsed.value;
  const credential = d.credential ?? createAzureCredential(s);
  const log = d.log ?? jsonLogger((l) => process.stderr.write(`${l}\n`));
  const ctx = vaultContext(s, credential, d.clientOptions, { log });
  // On stderr when the request itself goes to stdout (`csr`, `next-csr` without FILE).
  (requestToStdout(command, args) ? d.err : d.out)(`Key Vault ${ctx.url}, certificate "${ctx.name}"`);
  try {
    return await commands[command as keyof typeof commands](ctx, s, args, d);
  } catch (e) {
    d.err(isAppError(e) ? `${e.code}: ${e.message}` : describeError(e));
    return 1;
  }
}

/** `next-csr [--subject SUBJECT] [FILE]`. */
function nextCsrArgs(args: readonly string[]): { subject?: string | undefined; file?: string | undefined } {
  const [first, second, third] = args;
  return first === '--subject' ? { subject: second, file: third } : { file: first };
}

/** Whether `csr` or `next-csr` was given no FILE. */
function requestToStdout(command: string, args: readonly string[]): boolean {
  if (command === 'csr') return args[0] === undefined;
  return command === 'next-csr' && nextCsrArgs(args).file === undefined;
}

type Command = (
  ctx: VaultContext,
  s: KeyVaultSettings,
  args: readonly string[],
  d: CaCliDeps,
) => Promise<number>;

type Name = 'init' | 'csr' | 'import' | 'show' | 'next-init' | 'next-csr' | 'next-import' | 'next-show';

const commands: Record<Name, Command> = {
  async init(ctx, s, _args, d) {
    const r = await initRootCa(ctx, s, d.now);
    d.out(
      r.changed
        ? 'Created the root CA; its key never leaves Key Vault.'
        : 'The CA already exists; nothing changed.',
    );
    printCertificate(r.certificateDer, d);
    return 0;
  },
  csr: (ctx, s, args, d) => writeRequest(ctx, s, args[0], d, 'import'),
  import: (ctx, _s, args, d) => importSigned(ctx, args, d, CHAIN_SETTING),
  async show(ctx, _s, _args, d) {
    const st = await readCaState(ctx);
    if (st.state === 'absent') d.out('No CA yet: run `npm run ca -- init` (or csr + import).');
    else if (st.state === 'pending')
      d.out(
        `A ${st.mode ?? ''} request is pending: finish it with ${st.mode === 'root' ? '`init`' : '`import`'}.`,
      );
    else printCertificate(st.certificateDer, d);
    return st.state === 'ready' ? 0 : 1;
  },
  async 'next-init'(ctx, s, args, d) {
    const next = { ...ctx, name: nextCaName(ctx.name) };
    const r = await initRootCa(next, { ...s, subject: args[0] ?? s.subject }, d.now);
    d.out(
      r.changed
        ? `Created the next CA in "${next.name}"; GetCACaps lists GetNextCACert within a minute.`
        : `The next CA "${next.name}" already exists; nothing changed.`,
    );
    printCertificate(r.certificateDer, d);
    return 0;
  },
  'next-csr'(ctx, s, args, d) {
    const { subject, file } = nextCsrArgs(args);
    const next = { ...ctx, name: nextCaName(ctx.name) };
    return writeRequest(next, { ...s, subject: subject ?? s.subject }, file, d, 'next-import');
  },
  'next-import': (ctx, _s, args, d) =>
    importSigned({ ...ctx, name: nextCaName(ctx.name) }, args, d, NEXT_CHAIN_SETTING),
  async 'next-show'(ctx, _s, _args, d) {
    const st = await readCaState({ ...ctx, name: nextCaName(ctx.name) });
    if (st.state === 'ready') printCertificate(st.certificateDer, d);
    else d.out('No next CA: create one with `npm run ca -- next-init`.');
    return st.state === 'ready' ? 0 : 1;
  },
};

const CHAIN_SETTING = 'AppConfig__KeyVaultConfig__RootCertificateConfig__ChainPem';

/** `csr` / `next-csr`: the key (created once) and a PKCS#10 for the parent CA to sign. */
async function writeRequest(
  ctx: VaultContext,
  s: KeyVaultSettings,
  file: string | undefined,
  d: CaCliDeps,
  importCommand: string,
): Promise<number> {
  const r = await subordinateCsr(ctx, s);
  const pem = pemBlock('CERTIFICATE REQUEST', r.csrDer);
  // Without FILE the request goes to stdout alone, so that `> req.pem` holds nothing else.
  (file === undefined ? d.err : d.out)(
    r.created
      ? `Created the CA key "${ctx.name}" (${s.keyType} ${s.keySize}) and a request for "${r.subject}".`
      : 'A request is already pending; here it is again (same key).',
  );
  if (file === undefined) d.out(pem);
  else {
    await (d.writeFile ?? ((p, t) => writeFile(p, t)))(file, pem);
    d.out(
      `Wrote ${file}. Have the parent CA sign it as a CA certificate, then run: npm run ca -- ${importCommand} <signed> <chain>`,
    );
  }
  return 0;
}

/** `import` / `next-import`: merge the parent-signed certificate; print the chain setting. */
async function importSigned(
  ctx: VaultContext,
  files: readonly string[],
  d: CaCliDeps,
  chainSetting: string,
): Promise<number> {
  if (files.length === 0) {
    d.err('give the signed certificate file (and optionally the chain files)');
    return 2;
  }
  const read = d.readFile ?? ((p) => readFile(p));
  const certs = (await Promise.all(files.map(read))).flatMap(certificatesIn);
  const r = await importSubordinate(ctx, certs, d.now);
  d.out(
    r.changed
      ? `Imported the CA certificate into Key Vault ("${ctx.name}").`
      : 'This CA certificate is already in Key Vault; nothing changed.',
  );
  printCertificate(r.certificateDer, d);
  if (r.chainDer.length === 0) {
    d.out(
      'No issuer certificate was given: GetCACert will return only the CA certificate (devices need the root from the MDM).',
    );
  } else {
    d.out('Set this app setting so that SCEP clients get the chain with the CA certificate:');
    d.out(`${chainSetting}=${r.chainDer.map((c) => pemBlock('CERTIFICATE', c, '')).join('')}`);
  }
  return 0;
}

function printCertificate(der: Uint8Array, d: CaCliDeps): void {
  const c = new X509Certificate(der);
  const n = new NodeX509(der);
  d.out(`Subject:  ${c.subject}`);
  d.out(`Issuer:   ${c.issuer}`);
  d.out(`Serial:   ${c.serialNumber}`);
  d.out(`Valid:    ${c.notBefore.toISOString()} to ${c.notAfter.toISOString()}`);
  d.out(`SHA-256:  ${n.fingerprint256}`);
  d.out(`SHA-1:    ${n.fingerprint}`);
  d.out(
    `Key SHA-256 (SPKI): ${createHash('sha256')
      .update(n.publicKey.export({ format: 'der', type: 'spki' }))
      .digest('hex')}`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const code = await runCa(process.argv.slice(2), {
    env: process.env,
    out: (l) => process.stdout.write(`${l}\n`),
    err: (l) => process.stderr.write(`${l}\n`),
  });
  process.exitCode = code;
}
