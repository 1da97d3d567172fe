import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { withReasonsTable } from '../lib/audit/reasons-table.js';

/**
 * Regenerate the reason catalogue table of docs/troubleshooting.md from lib/audit/reasons.ts
 * (formatted as `npm run lint` wants it).
 */
const here = dirname(fileURLToPath(import.meta.url));
const page = join(here, here.includes('dist') ? '../..' : '..', 'docs', 'troubleshooting.md');
const before = readFileSync(page, 'utf8');
const options = (await resolveConfig(page)) ?? {};
const after = await format(withReasonsTable(before), { ...options, filepath: page });
if (after !== before) writeFileSync(page, after);
process.stdout.write(
  after === before
    ? 'docs/troubleshooting.md reason table is current\n'
    : 'docs/troubleshooting.md reason table updated\n',
);
