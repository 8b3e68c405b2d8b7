// Rewrites the flags table in README.md from src/cli/flags.ts.
import fs from 'node:fs';
import { withFlagsTable } from '../src/cli/flags-table.ts';

const file = new URL('../README.md', import.meta.url);
fs.writeFileSync(file, withFlagsTable(fs.readFileSync(file, 'utf8')));
console.log('README.md flags table updated');
