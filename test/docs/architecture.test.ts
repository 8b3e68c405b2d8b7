// docs/architecture.md#stages says which stage may import which; this test holds the code to that table, so an
// upward import (a stage reaching into one that builds on it) fails here rather than growing quietly. It also
// holds the test tree to its rule: code shared between test files lives in test/helpers/ only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO } from '../helpers/cli.ts';

const SRC = path.join(REPO, 'src');
/** Shared modules at the top of src/: anyone may import them; they import none of the stages. */
const SHARED = ['errors.ts', 'rng.ts', 'system-errors.ts', 'progress.ts'];

/**
 * What each stage (folder under src/, or top-level file) may import besides itself and the shared modules: a
 * folder name allows the whole stage, a path allows that one file (the registries the CLI reads for its choices).
 */
const ALLOWED: Record<string, string[]> = {
  'main.ts': ['commands'],
  io: [],
  backend: [],
  cli: ['data/datasets/index.ts', 'models/registry.ts', 'losses/registry.ts', 'commands/index.ts', 'io/safe-read.ts'],
  data: ['io', 'cli'],
  models: ['data', 'io'],
  losses: ['models/layers.ts'],
  eval: ['data', 'models', 'io'],
  mic: ['data', 'models', 'losses', 'eval'],
  report: ['cli', 'data', 'losses/registry.ts'],
  train: ['cli', 'io', 'backend', 'data', 'models', 'losses', 'eval', 'mic', 'report'],
  commands: ['cli', 'io', 'backend', 'data', 'models', 'losses', 'eval', 'mic', 'report', 'train'],
};
for (const s of SHARED) ALLOWED[s] = [];

function walk(dir: string, keep: (f: string) => boolean): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p, keep) : keep(p) ? [p] : [];
  });
}

/** Relative specifiers of every static and dynamic import / re-export in a file. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)].map((m) => m[1]);
}

const stageOf = (rel: string) => rel.split('/')[0];

function violations(): string[] {
  const out: string[] = [];
  for (const file of walk(SRC, (f) => f.endsWith('.ts'))) {
    const from = path.relative(SRC, file).split(path.sep).join('/');
    const stage = stageOf(from);
    const allowed = ALLOWED[stage];
    if (!allowed) {
      out.push(`${from}: stage '${stage}' is not in the table (add it to docs/architecture.md#stages and here)`);
      continue;
    }
    for (const spec of importsOf(file)) {
      const target = path
        .relative(SRC, path.resolve(path.dirname(file), spec))
        .split(path.sep)
        .join('/');
      const to = stageOf(target);
      if (to === stage || (SHARED.includes(to) && !SHARED.includes(stage))) continue;
      if (!allowed.includes(to) && !allowed.includes(target)) out.push(`${from} imports ${target}`);
    }
  }
  return out;
}

test('imports follow the stage table of docs/architecture.md (no stage imports one that builds on it)', () => {
  assert.deepEqual(violations(), []);
});

test('the import check sees imports: every stage but the shared ones imports something', () => {
  const importing = new Set(walk(SRC, (f) => f.endsWith('.ts')).flatMap((f) => (importsOf(f).length > 0 ? [stageOf(path.relative(SRC, f))] : [])));
  for (const stage of Object.keys(ALLOWED).filter((s) => !SHARED.includes(s))) assert.ok(importing.has(stage), stage);
});

test('code shared between test files lives in test/helpers/ only', () => {
  const TEST = path.join(REPO, 'test');
  const stray = walk(TEST, (f) => /\.(ts|mjs|js)$/.test(f) && !f.endsWith('.test.ts'))
    .map((f) => path.relative(TEST, f).split(path.sep).join('/'))
    .filter((f) => !f.startsWith('helpers/') && !f.startsWith('fixtures/'));
  assert.deepEqual(stray, []);
});
