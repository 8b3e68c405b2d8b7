import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { withFlagsTable, flagsMarkdownTable } from '../../src/cli/flags-table.ts';
import { FLAGS } from '../../src/cli/flags.ts';

test('README flags table equals the one generated from the flag table (run npm run readme:flags)', () => {
  const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  assert.equal(readme, withFlagsTable(readme));
});

test('generated table has one row per flag', () => {
  const rows = flagsMarkdownTable().split('\n').slice(2);
  assert.equal(rows.length, FLAGS.length);
  for (const f of FLAGS)
    assert.ok(
      rows.some((r) => r.startsWith(`| \`--${f.name}\` |`)),
      f.name,
    );
});
