import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { withReasonsTable } from '../lib/audit/reasons-table.js';

/** Regenerate the README's reason catalogue table from lib/audit/reasons.ts (formatted as `npm run lint` wants it). */
const here = dirname(fileURLToPath(import.meta.url));
const readme = join(here, here.includes('dist') ? '../..' : '..', 'README.md');
const before = readFileSync(readme, 'utf8');
const options = (await resolveConfig(readme)) ?? {};
const after = await format(withReasonsTable(before), { ...options, filepath: readme });
if (after !== before) writeFileSync(readme, after);
process.stdout.write(after === before ? 'README reason table is current\n' : 'README reason table updated\n');
