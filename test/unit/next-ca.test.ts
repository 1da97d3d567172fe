import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NextCa, type NextCaStore } from '../../lib/ca/next.js';
import { LocalNextCaStore } from '../../lib/ca/next-local.js';
import { isAppError } from '../../lib/errors.js';
import { memoryLogger, silentLogger } from '../../lib/log.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function caDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'next-ca-'));
  dirs.push(d);
  return d;
}

const request = {
  subject: 'CN=Next Unit CA, O=tests',
  validityDays: 400,
  now: new Date('2026-06-01T00:00:00Z'),
};

describe('the next CA as instances see it', () => {
  it('ok/another instance sees a next CA created elsewhere once its 60 s reuse is over, not before', async () => {
    const dir = caDir();
    let t = Date.parse('2026-06-01T00:00:00Z');
    const clock = () => new Date(t);
    const o = { reloadMs: 60_000, clock, log: silentLogger };
    const a = new NextCa(new LocalNextCaStore(dir, 2048), o);
    const b = new NextCa(new LocalNextCaStore(dir, 2048), o);
    expect(await b.current()).toBeUndefined();
    const created = await a.createRoot(request);
    expect(await a.current()).toBe(created);
    t += 59_999;
    expect(await b.current()).toBeUndefined();
    t += 1;
    const seen = await b.current();
    expect(seen && Buffer.from(seen.certificateDer).equals(Buffer.from(created.certificateDer))).toBe(true);
  });

  it('ok/the local next CA is a self-signed CA with the requested subject and validity; its key file is 0600', async () => {
    const dir = caDir();
    const created = await new LocalNextCaStore(dir, 2048).createRoot(request);
    const x = new X509Certificate(created.certificateDer);
    expect(x.subject).toContain('CN=Next Unit CA');
    expect(x.ca).toBe(true);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(new Date(x.validTo).getTime() - request.now.getTime()).toBe(400 * 86400_000);
    expect(statSync(join(dir, 'next', 'ca.key.pem')).mode & 0o777).toBe(0o600);
  });

  it('fail/creating a second next CA while one waits is a CONFLICT and keeps the first', async () => {
    const dir = caDir();
    const nextCa = new NextCa(new LocalNextCaStore(dir, 2048), {
      reloadMs: 60_000,
      clock: () => new Date(),
      log: silentLogger,
    });
    const first = await nextCa.createRoot(request);
    const err: unknown = await nextCa.createRoot(request).catch((e: unknown) => e);
    expect(isAppError(err) && err.code).toBe('CONFLICT');
    nextCa.forget();
    expect(
      Buffer.from((await nextCa.current())?.certificateDer ?? []).equals(Buffer.from(first.certificateDer)),
    ).toBe(true);
  });

  it('fail/a store that cannot be read means no GetNextCACert (logged), and is asked again next time', async () => {
    let reads = 0;
    const broken: NextCaStore = {
      location: 'test:broken',
      read: () => {
        reads++;
        return Promise.reject(new Error('vault unreachable'));
      },
      createRoot: () => Promise.reject(new Error('unused')),
      pending: () => Promise.reject(new Error('unused')),
      createRequest: () => Promise.reject(new Error('unused')),
      request: () => Promise.reject(new Error('unused')),
      install: () => Promise.reject(new Error('unused')),
    };
    const log = memoryLogger();
    const nextCa = new NextCa(broken, { reloadMs: 60_000, clock: () => new Date(0), log });
    expect(await nextCa.current()).toBeUndefined();
    expect(await nextCa.current()).toBeUndefined();
    expect(reads).toBe(2);
    expect(
      log.entries.some((l) => l.level === 'warn' && JSON.stringify(l.fields).includes('vault unreachable')),
    ).toBe(true);
  });
});
