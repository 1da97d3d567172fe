import 'reflect-metadata';
import { beforeAll, describe, expect, it } from 'vitest';
import { thumbprintOf } from '../../lib/ca/active.js';
import { LiveCa, type CaSnapshot } from '../../lib/ca/holder.js';
import { CertificateIssuer } from '../../lib/ca/issue.js';
import { createRootCertificate } from '../../lib/ca/root.js';
import { LocalKey } from '../../lib/keys/local.js';
import type { CaKeys } from '../../lib/keys/types.js';
import { memoryLogger } from '../../lib/log.js';
import { caResponder } from '../../lib/ra/responder.js';
import { rsaKey } from '../helpers/pki.js';

async function ca(name: string): Promise<CaKeys> {
  const key = new LocalKey(rsaKey(2048, name), `test:${name}`);
  const der = await createRootCertificate({ signer: key, subject: `CN=${name}, O=Test`, days: 365 });
  return { certificateDer: der, chainDer: [], signer: key, decrypter: key };
}

/**
 * The live CA set (lib/ca/holder.ts) on a clock the test moves: the activation record is read
 * at most once per interval, concurrent requests share one read, the CAs are loaded only when
 * the record names another CA, and a record that cannot be read leaves the CA in use issuing.
 */
describe('live CA set', () => {
  let configured: CaKeys;
  let next: CaKeys;
  beforeAll(async () => {
    [configured, next] = await Promise.all([ca('Live Unit CA 1'), ca('Live Unit CA 2')]);
  });

  function setup() {
    let now = 0;
    const calls = { recorded: 0, resolve: 0 };
    let record: string | undefined;
    let unreadable = false;
    const log = memoryLogger();
    const snapshot = (active: CaKeys, previous: CaKeys | undefined): CaSnapshot => ({
      configured,
      active,
      previous,
      issuer: new CertificateIssuer(active, { clockSkewMinutes: 0 }),
      responder: caResponder(active, previous),
    });
    const live = new LiveCa(snapshot(configured, undefined), {
      reloadMs: 60_000,
      clock: () => new Date(now),
      recorded: async () => {
        calls.recorded += 1;
        await new Promise((r) => setTimeout(r, 5));
        if (unreadable) throw new Error('store down');
        return record;
      },
      resolve: () => {
        calls.resolve += 1;
        return Promise.resolve(
          record === thumbprintOf(next.certificateDer)
            ? { active: next, previous: configured }
            : { active: configured, previous: undefined },
        );
      },
      snapshot,
      log,
    });
    const switched: CaSnapshot[] = [];
    live.onSwitch((s) => switched.push(s));
    return {
      live,
      calls,
      log,
      switched,
      advance: (ms: number) => void (now += ms),
      activate: () => void (record = thumbprintOf(next.certificateDer)),
      breakStore: (b: boolean) => void (unreadable = b),
    };
  }

  it('ok/reads the record once per interval, shared by concurrent requests, and loads the CAs only when it names another', async () => {
    const t = setup();
    await Promise.all([t.live.get(), t.live.get()]);
    expect(t.calls.recorded).toBe(0); // read at start, within the interval
    t.advance(60_000);
    await Promise.all([t.live.get(), t.live.get(), t.live.get()]);
    expect(t.calls).toEqual({ recorded: 1, resolve: 0 }); // no record: nothing to load
    t.activate();
    t.advance(59_999);
    expect((await t.live.get()).active).toBe(configured);
    t.advance(1);
    const s = await t.live.get();
    expect(s.active).toBe(next);
    expect(s.previous).toBe(configured);
    expect(s.issuer.caName).toBe('CN=Live Unit CA 2, O=Test');
    expect(t.switched).toHaveLength(1);
    expect(t.switched[0]).toBe(s);
    t.advance(60_000);
    await t.live.get();
    expect(t.calls).toEqual({ recorded: 3, resolve: 1 }); // the record names the CA in use
  });

  it('ok/reload reads at once (the instance that activates)', async () => {
    const t = setup();
    t.activate();
    expect((await t.live.reload()).active).toBe(next);
    expect(t.live.current.active).toBe(next);
  });

  it('fail/a record that cannot be read leaves the CA in use issuing, logged, read again after the interval', async () => {
    const t = setup();
    t.breakStore(true);
    t.activate();
    t.advance(60_000);
    expect((await t.live.get()).active).toBe(configured);
    expect(t.log.entries.map((e) => e.message)).toContain(
      'active CA: the activation record cannot be read; the CA in use keeps issuing',
    );
    await t.live.get();
    expect(t.calls.recorded).toBe(1);
    t.breakStore(false);
    t.advance(60_000);
    expect((await t.live.get()).active).toBe(next);
  });
});
