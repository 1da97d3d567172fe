import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { HttpResponseInit } from '@azure/functions';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** A path inside the built console: letters, digits, `.-_/`, no `..` segment. */
const SAFE = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/**
 * The admin console's built files (Vite output: index.html and content-hashed files under
 * assets/), served from memory after the first read. Hashed files are cached for a year;
 * index.html is revalidated so a deployment takes effect on the next load. Any other path
 * under `/admin` answers index.html: the single-page app routes on the client.
 */
export class ConsoleAssets {
  private readonly cache = new Map<string, Buffer>();

  constructor(
    private readonly dir: string,
    /** Content-Security-Policy for the page (the sign-in authority is allowed to connect). */
    private readonly csp: string,
  ) {}

  /** The first folder of `candidates` holding a built console (index.html + assets/). */
  static locate(candidates: readonly string[]): string | undefined {
    return candidates.find((d) => existsSync(join(d, 'index.html')) && existsSync(join(d, 'assets')));
  }

  async serve(path: string | undefined): Promise<HttpResponseInit> {
    const p = (path ?? '').replace(/^\/+/, '');
    if (p !== '' && SAFE.test(p) && !p.split('/').includes('..')) {
      const body = await this.read(p);
      if (body) return this.file(p, body);
      if (p.startsWith('assets/')) return { status: 404, body: 'not found' };
    }
    const index = await this.read('index.html');
    if (!index) return { status: 503, headers: { 'content-type': 'text/plain' }, body: 'console not built' };
    return this.file('index.html', index);
  }

  private file(p: string, body: Buffer): HttpResponseInit {
    const headers: Record<string, string> = {
      'content-type': TYPES[extname(p)] ?? 'application/octet-stream',
      'x-content-type-options': 'nosniff',
      'cache-control': p.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    };
    if (p.endsWith('.html')) {
      headers['content-security-policy'] = this.csp;
      headers['referrer-policy'] = 'no-referrer';
    }
    return { status: 200, headers, body };
  }

  private async read(p: string): Promise<Buffer | undefined> {
    const hit = this.cache.get(p);
    if (hit) return hit;
    const file = normalize(join(this.dir, p));
    if (!file.startsWith(normalize(this.dir + sep))) return undefined;
    const body = await readFile(file).catch(() => undefined);
    if (body) this.cache.set(p, body);
    return body;
  }
}
