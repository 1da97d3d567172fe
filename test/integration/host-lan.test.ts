import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { startLocalHost } from '../../scripts/host.js';

const dataDir = mkdtempSync(join(tmpdir(), 'scep-ca-lan-'));
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

/** What the host printed while `run` ran. */
async function printed<T>(run: () => Promise<T>): Promise<[T, string]> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  });
  try {
    return [await run(), out];
  } finally {
    spy.mockRestore();
  }
}

describe('npm start bind address (HOST)', () => {
  it('ok/HOST=0.0.0.0 listens beyond loopback, warns, and prints a LAN URL per IPv4 address', async () => {
    const [host, out] = await printed(() =>
      startLocalHost({ port: 0, host: '0.0.0.0', dataDir, store: 'memory' }),
    );
    try {
      expect(out).toMatch(/WARNING: listening on 0\.0\.0\.0:\d+/);
      const lan = Object.values(networkInterfaces())
        .flat()
        .filter((a) => a !== undefined && !a.internal && a.family === 'IPv4');
      const port = new URL(host.baseUrl).port;
      for (const a of lan) expect(out).toContain(`LAN: http://${a?.address ?? ''}:${port}/`);
      if (lan[0]) expect((await fetch(`http://${lan[0].address}:${port}/probe`)).status).toBe(200);
    } finally {
      await host.close();
    }
  });

  const lanIpv4 = Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && !a.internal && a.family === 'IPv4')?.address;
  it.runIf(lanIpv4 !== undefined)(
    'ok/HOST=<one LAN address> prints and answers at that address, where it listens, not at 127.0.0.1',
    async () => {
      const bind = lanIpv4 ?? '';
      const [host, out] = await printed(() =>
        startLocalHost({ port: 0, host: bind, dataDir, store: 'memory' }),
      );
      try {
        expect(host.baseUrl).toMatch(new RegExp(`^http://${bind.replaceAll('.', '\\.')}:\\d+$`));
        expect(out).toContain(`azure-scep-ca is listening on ${host.baseUrl}`);
        expect(out).toContain(`LAN: ${host.baseUrl}/`);
        expect((await fetch(`${host.baseUrl}/probe`)).status).toBe(200);
      } finally {
        await host.close();
      }
    },
  );

  it('ok/by default it listens on 127.0.0.1 only and prints no warning', async () => {
    const [host, out] = await printed(() => startLocalHost({ port: 0, dataDir, store: 'memory' }));
    await host.close();
    expect(out).not.toContain('WARNING: listening');
    expect(host.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:/);
  });
});
