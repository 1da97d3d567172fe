import { describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { AppError } from '../../lib/errors.js';
import { errorResponse } from '../../lib/http/errors.js';
import { KeyVaultError } from '../../lib/keys/keyvault-call.js';
import { jsonLogger, memoryLogger } from '../../lib/log.js';
import { probe } from '../../lib/probe.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * No internals to anonymous clients: Key Vault URLs, key names, Cosmos DB error texts and stack
 * traces stay in the log; log lines keep their own message and level whatever the fields say.
 */

const VAULT_TEXT =
  'Key Vault sign on keys/contoso-ca/0123abcd at https://contoso-ca-kv.vault.azure.net answered 500';

describe('HTTP error bodies', () => {
  it('fail/a Key Vault failure that reaches the HTTP layer is 503 without the vault URL or key name', () => {
    const logger = memoryLogger();
    const e = new KeyVaultError(VAULT_TEXT, 500, 'InternalServerError', new Error('boom\n    at x.ts:1'), {});
    const r = errorResponse(e, logger);
    expect(r.status).toBe(503);
    const body = JSON.stringify(r.jsonBody);
    expect(body).not.toMatch(/vault\.azure\.net|contoso-ca|keys\/|boom|\.ts:/);
    // The operator still gets the whole story.
    expect(JSON.stringify(logger.entries)).toContain('contoso-ca-kv.vault.azure.net');
  });

  it('fail/a Cosmos DB error text and an unexpected exception never reach the body', () => {
    const cosmos = new AppError('DEPENDENCY_UNAVAILABLE', 'Cosmos DB create failed', {
      cause: new Error('Request rate is large. ActivityId: 1234, https://contoso.documents.azure.com'),
    });
    for (const e of [cosmos, new TypeError("Cannot read properties of undefined (reading 'der')")]) {
      const body = JSON.stringify(errorResponse(e, memoryLogger()).jsonBody);
      expect(body).not.toMatch(/documents\.azure\.com|ActivityId|Cannot read|der/);
    }
  });

  it('fail/an error detail named status or code cannot change the logged status and code', () => {
    const logger = memoryLogger();
    errorResponse(new AppError('BAD_REQUEST', 'bad', { detail: { status: 200, code: 'OK' } }), logger);
    expect(logger.entries[0]?.fields).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
  });
});

describe('log lines', () => {
  it('fail/fields named message, level or time cannot overwrite the line’s own', () => {
    const lines: string[] = [];
    jsonLogger((l) => lines.push(l)).warn('enrollment refused', {
      message: 'enrollment issued',
      level: 'info',
      time: '1970-01-01T00:00:00Z',
    });
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 'warn',
      message: 'enrollment refused',
      'field.message': 'enrollment issued',
    });
    expect(line.time).not.toBe('1970-01-01T00:00:00Z');
  });

  it('fail/a 100 kB transactionID or subject is capped in the log', () => {
    const lines: string[] = [];
    jsonLogger((l) => lines.push(l)).info('x', {
      transactionId: 'T'.repeat(100_000),
      subject: 'S'.repeat(100_000),
    });
    expect(lines[0]!.length).toBeLessThan(1000);
    expect(lines[0]).toContain('(100000 chars)');
  });
});

describe('/probe', () => {
  it('fail/a failing store is reported as the word "unavailable", its error only in the log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'probe-'));
    try {
      const logger = memoryLogger();
      const app = await createApp(
        {
          AppConfig__DataDir: dir,
          AppConfig__StaticValidation__RequestPassword: 'probe-challenge-0123456789',
        },
        { logger },
      );
      app.store.ping = () =>
        Promise.reject(
          new AppError(
            'DEPENDENCY_UNAVAILABLE',
            'Cosmos DB ping failed at https://contoso.documents.azure.com',
          ),
        );
      const r = await probe(app);
      expect(r).toEqual({ ok: false, checks: { settings: 'ok', caCertificate: 'ok', store: 'unavailable' } });
      expect(JSON.stringify(logger.entries)).toContain('contoso.documents.azure.com');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
