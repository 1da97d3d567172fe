import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostEnvironment, localSettings } from '../../scripts/local/settings.js';

/** local.settings.json as `npm start` reads it (the Values that `func start` reads too). */
describe('local.settings.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'local-settings-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const write = (text: string): string => {
    const file = join(dir, 'local.settings.json');
    writeFileSync(file, text);
    return file;
  };

  it('ok/its Values are the settings; a missing file is none', () => {
    expect(localSettings(write('{"IsEncrypted":false,"Values":{"AppConfig__X":"1"}}'))).toEqual({
      AppConfig__X: '1',
    });
    expect(localSettings(join(dir, 'absent.json'))).toEqual({});
  });

  it('fail/a file that is not JSON (a trailing comma) stops the start naming the file', () => {
    const file = write('{ "Values": { "AppConfig__X": "1", } }');
    expect(() => localSettings(file)).toThrow(`${file}: not valid JSON`);
  });
});

/** PORT, HOST and LOCAL_STORE, as `npm start` reads them. */
describe('npm start environment', () => {
  it('ok/defaults: port 7071, 127.0.0.1, the embedded SQLite store', () => {
    expect(hostEnvironment({})).toEqual({ port: 7071, store: 'sqlite' });
    expect(hostEnvironment({ PORT: '0', HOST: ' 0.0.0.0 ', LOCAL_STORE: 'memory' })).toEqual({
      port: 0,
      host: '0.0.0.0',
      store: 'memory',
    });
  });

  it('fail/a PORT that is not a port number stops the start naming PORT', () => {
    expect(() => hostEnvironment({ PORT: 'abc' })).toThrow(
      'PORT: expected a port number from 0 to 65535, got "abc"',
    );
    expect(() => hostEnvironment({ PORT: '99999' })).toThrow(/^PORT: /);
  });

  it('ok/AppConfig__LocalStore=memory (the app setting store.md documents), from the environment or local.settings.json, keeps records in memory; LOCAL_STORE wins', () => {
    expect(hostEnvironment({ AppConfig__LocalStore: 'memory' }).store).toBe('memory');
    expect(hostEnvironment({}, { AppConfig__LocalStore: 'memory' }).store).toBe('memory');
    expect(
      hostEnvironment({ AppConfig__LocalStore: 'sqlite' }, { AppConfig__LocalStore: 'memory' }).store,
    ).toBe('sqlite');
    expect(hostEnvironment({ LOCAL_STORE: 'cosmos', AppConfig__LocalStore: 'memory' }).store).toBe('cosmos');
  });

  it('fail/a LOCAL_STORE other than sqlite, memory or cosmos stops the start instead of keeping records in sqlite', () => {
    expect(() => hostEnvironment({ LOCAL_STORE: 'Memory' })).toThrow(
      'LOCAL_STORE: expected sqlite, memory or cosmos, got "Memory"',
    );
  });
});
