/**
 * A describe block for one real client. Locally a missing client skips the block with the reason
 * in its title (and on stderr); with CI=true a missing client is a failing test, because CI
 * installs the clients and a silent skip would hide a broken setup.
 */
import { describe, it } from 'vitest';
import type { ClientCheck } from './clients.js';

export function describeWithClient(title: string, check: ClientCheck, body: () => void): void {
  if (check.available) {
    describe(title, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(title, () => {
      it('has its client installed (required when CI=true)', () => {
        throw new Error(`${check.reason}; CI=true requires the interop clients`);
      });
    });
    return;
  }
  process.stderr.write(`[interop] skipping "${title}": ${check.reason}\n`);
  describe.skip(`${title} [skipped: ${check.reason}]`, body);
}
