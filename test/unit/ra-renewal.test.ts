import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../lib/app.js';
import { memoryLogger, silentLogger } from '../../lib/log.js';
import { MemoryDocumentStore } from '../../lib/store/documents-memory.js';

/**
 * RA certificate renewal on a clock (no waiting): two app instances share the data folder (CA
 * and RA key files) and the RA state documents, as two Function App instances share Key Vault
 * and Cosmos DB.
 */
const DAY = 86_400_000;
let dataDir: string;
let t = Date.parse('2026-01-01T00:00:00Z');
const clock = () => new Date(t);
let a: App;
let b: App;
const logA = memoryLogger();

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ra-renewal-'));
  const env = {
    AppConfig__DataDir: dataDir,
    AppConfig__StaticValidation__RequestPassword: 'ra-renewal-challenge',
    AppConfig__RA__ValidityDays: '90',
    AppConfig__RA__RenewBeforeDays: '30',
  };
  const documents = new MemoryDocumentStore();
  a = await createApp(env, { clock, documents, logger: logA });
  b = await createApp(env, { clock, documents, logger: silentLogger });
});

afterAll(() => {
  a.close();
  b.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const published = async (app: App): Promise<string> =>
  (await app.ra.responder('lab')).signerCertificate.serialHex;

describe('RA certificate renewal', () => {
  it('ok/the RA certificate renews by itself RenewBeforeDays before it expires, with overlap, and not a minute earlier', async () => {
    const first = await published(a);
    const [issued] = await a.ra.list('lab');
    if (!issued) throw new Error('no RA certificate');
    expect(Date.parse(issued.notAfter) - t).toBe(90 * DAY);
    const renewAt = Date.parse(issued.notAfter) - 30 * DAY;

    t = renewAt - 60_000; // one minute before the window: a reload keeps it
    expect(await published(a)).toBe(first);
    t = renewAt + 60_000; // inside the window, past the one-minute reuse: the next request renews
    const second = await published(a);
    expect(second).not.toBe(first);
    const list = await a.ra.list('lab');
    expect(list.map((c) => c.status)).toEqual(['current', 'previous']);
    const recipients = (await a.ra.responder('lab')).recipients.map((r) => r.certificate.serialHex);
    expect(recipients).toEqual(expect.arrayContaining([first, second]));
    // The renewal is a key lifecycle audit event (the sink also writes it as a log line).
    const renewed = logA.entries.find((e) => e.fields.audit === true && e.fields.operation === 'ra.renewed');
    expect(renewed?.fields).toMatchObject({ endpoint: 'lab', kind: 'key', reason: 'key-lifecycle' });
    expect(String(renewed?.fields.message)).toContain(`replaces ${issued.thumbprintSha256.toUpperCase()}`);
  });

  it('ok/another instance publishes an on-demand rotation within one minute, not before', async () => {
    const before = await published(b);
    expect(await published(a)).toBe(before);
    const rotated = await a.ra.renew('lab');
    expect(await published(a)).not.toBe(before);
    t += 59_000;
    expect(await published(b)).toBe(before);
    t += 1_000;
    const after = (await b.ra.responder('lab')).signerCertificate;
    expect(after.serialHex).not.toBe(before);
    expect((await b.ra.list('lab'))[0]?.thumbprintSha256).toBe(rotated.thumbprintSha256);
  });
});

describe('RA certificate subject', () => {
  // The organization was cut out of the CA's RFC 4514 name with a regular expression, which
  // stopped at the escaped comma of "Contoso, Inc." and left a lone backslash: the RA
  // certificate was issued with an empty O.
  it.each(['Contoso, Inc.', 'Contoso + Partners', 'Fabrikam'])(
    'ok/names the CA organization "%s" as the CA certificate does',
    async (organization) => {
      const dir = mkdtempSync(join(tmpdir(), 'ra-subject-'));
      const escaped = organization.replace(/([,+])/g, '\\$1');
      const app = await createApp(
        {
          AppConfig__DataDir: dir,
          AppConfig__StaticValidation__RequestPassword: 'ra-subject-challenge',
          AppConfig__LocalCA__Subject: `CN=Issuing CA, O=${escaped}`,
        },
        { documents: new MemoryDocumentStore(), logger: silentLogger },
      );
      try {
        await app.ra.responder('lab');
        const [ra] = await app.ra.list('lab');
        expect(ra?.subject).toBe(`CN=lab SCEP RA, O=${escaped}`);
      } finally {
        app.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
