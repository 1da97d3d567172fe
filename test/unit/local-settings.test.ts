import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localSettings } from '../../scripts/local/settings.js';

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
