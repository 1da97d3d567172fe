/**
 * Debian's `chromium` driven by playwright-core (which cannot download its own browser here):
 * headless, no sandbox (containers), nothing that calls home, a fresh profile per run.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { ClientCheck } from '../interop/helpers/clients.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function checkChromium(): ClientCheck {
  return existsSync(CHROMIUM)
    ? { available: true, reason: '' }
    : { available: false, reason: `${CHROMIUM} missing (apt-get install chromium)` };
}

export interface Browser {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Saves test-results/console/<name>.png, and <UPDATE_SCREENSHOTS>/<name>.png when set. */
  shot(name: string, o?: { fullPage?: boolean }): Promise<void>;
  close(): Promise<void>;
}

export async function launch(downloads: string): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'scep-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    downloadsPath: downloads,
    viewport: { width: 1280, height: 800 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const results = join('test-results', 'console');
  const docs = process.env.UPDATE_SCREENSHOTS;
  return {
    context,
    page,
    async shot(name, o = {}) {
      for (const dir of docs ? [results, docs] : [results]) {
        const file = join(dir, `${name}.png`);
        await mkdir(dirname(file), { recursive: true });
        await page.screenshot({ path: file, fullPage: o.fullPage ?? false });
      }
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
