/**
 * The repository's own documentation is the only reference code may cite (docs/architecture.md#tests):
 * every `docs/<file>.md#<anchor>` written in a source file, script, test, README or run script must name an
 * existing docs file and an explicit `<a id="…"></a>` anchor in it; links and repository paths inside docs/
 * must resolve too; and nothing may point at documents outside the repository (section signs, "spec" section
 * numbers, the old shared notes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The docs every task may rely on. */
const REQUIRED_DOCS = ['docs/porting.md', 'docs/architecture.md', 'docs/engine.md'];
/** Folders and files whose text may cite docs. */
const SCAN_ROOTS = [
  'src',
  'scripts',
  'test',
  'bin',
  'docs',
  '.ci',
  'README.md',
  'Datasets/README.md',
  'Datasets/sample/README.md',
  'Result_Runs.sh',
  'package.json',
];
const SKIP_DIRS = new Set(['node_modules', path.join('test', 'fixtures')]);
const TEXT_FILE = /(\.(ts|mts|mjs|cjs|js|py|sh|md|wat|json|txt)|[/\\]\.ci[/\\]run)$/;

/**
 * References to documents outside the repository. Written so that this file does not match them itself
 * (escapes and character classes instead of the literal words).
 */
const OUTSIDE_REFERENCES: { pattern: RegExp; what: string }[] = [
  { pattern: /\u00a7/, what: 'a section sign (a section of an outside document)' },
  { pattern: /\bspec\s+(?:sections?\s+)?\d/i, what: 'a numbered section of an outside specification' },
  { pattern: /\bporting[ ]spec\b/i, what: 'a porting specification outside the repo' },
  { pattern: /\bstyle\.md\b/, what: 'the shared style notes' },
  { pattern: /platform[-]notes/, what: 'the shared platform notes' },
  { pattern: /mic[-]spec/, what: 'the shared porting specification' },
  { pattern: /seed[-]readme/, what: 'the shared copy of the original README' },
  { pattern: /\/work\/shared\b/, what: 'a path outside the repository' },
];

export interface Problem {
  file: string;
  line: number;
  message: string;
}

/** Explicit anchors `<a id="x"></a>` of a markdown text, and any id defined twice. */
export function anchorsOf(markdown: string): { ids: Set<string>; duplicates: string[] } {
  const ids = new Set<string>();
  const duplicates: string[] = [];
  for (const m of markdown.matchAll(/<a id="([^"]+)"><\/a>/g)) {
    if (ids.has(m[1])) duplicates.push(m[1]);
    ids.add(m[1]);
  }
  return { ids, duplicates };
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

/**
 * Every problem with the docs references in `files` (repo-relative path → text). `docs` maps repo-relative docs
 * paths (`docs/porting.md`) to their text; `exists` says whether a repo-relative path exists.
 */
export function findProblems(files: Map<string, string>, docs: Map<string, string>, exists: (repoPath: string) => boolean): Problem[] {
  const problems: Problem[] = [];
  const anchors = new Map([...docs].map(([name, text]) => [name, anchorsOf(text)]));
  const checkTarget = (file: string, line: number, target: string, anchor: string | undefined) => {
    const a = anchors.get(target);
    if (!a) problems.push({ file, line, message: `cites ${target}, which does not exist` });
    else if (anchor !== undefined && !a.ids.has(anchor))
      problems.push({ file, line, message: `cites ${target}#${anchor}: no <a id="${anchor}"></a> there` });
  };
  for (const [name, a] of anchors) for (const d of a.duplicates) problems.push({ file: name, line: 0, message: `anchor '${d}' is defined twice` });

  for (const [file, text] of files) {
    for (const { pattern, what } of OUTSIDE_REFERENCES) {
      const m = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g');
      for (const hit of text.matchAll(m))
        problems.push({ file, line: lineOf(text, hit.index!), message: `refers to ${what}: '${hit[0]}'; link into docs/ instead` });
    }
    // A docs file (and anchor) named anywhere — comments, strings, markdown links — but not as the tail of a URL
    // or of a longer path.
    for (const m of text.matchAll(/(?<![\w/.-])docs\/([\w./-]*?\.md)(?:#([\w-]+))?/g)) {
      checkTarget(file, lineOf(text, m.index!), `docs/${m[1]}`, m[2]);
    }
    if (!file.startsWith('docs/')) continue;
    // Inside docs: relative markdown links, and repository paths written as code.
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const [target, anchor] = m[1].split('#');
      if (/^[a-z]+:/i.test(target)) continue;
      const line = lineOf(text, m.index!);
      const repoPath = target === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), target));
      if (repoPath.endsWith('.md') && docs.has(repoPath)) checkTarget(file, line, repoPath, anchor);
      else if (!exists(repoPath)) problems.push({ file, line, message: `links to ${m[1]}, which does not exist` });
    }
    for (const m of text.matchAll(/`((?:src|scripts|test|bin|docs|Datasets)\/[^`\s<>*{}]*)/g)) {
      if (!exists(m[1])) problems.push({ file, line: lineOf(text, m.index!), message: `names ${m[1]}, which does not exist` });
    }
  }
  return problems;
}

function collect(): Map<string, string> {
  const files = new Map<string, string>();
  const visit = (rel: string) => {
    const abs = path.join(REPO, rel);
    if (!fs.existsSync(abs) || SKIP_DIRS.has(rel)) return;
    if (fs.statSync(abs).isDirectory()) {
      for (const e of fs.readdirSync(abs).sort()) if (!SKIP_DIRS.has(e)) visit(path.join(rel, e));
    } else if (TEXT_FILE.test(abs)) {
      files.set(rel.split(path.sep).join('/'), fs.readFileSync(abs, 'utf8'));
    }
  };
  for (const r of SCAN_ROOTS) visit(r);
  return files;
}

const exists = (repoPath: string) => fs.existsSync(path.join(REPO, repoPath));

test('the docs every reference relies on exist', () => {
  for (const d of REQUIRED_DOCS) assert.ok(exists(d), `${d} is missing`);
});

test('every docs link in code, scripts, tests, READMEs and docs resolves; nothing cites a document outside the repo', () => {
  const files = collect();
  const docs = new Map([...files].filter(([f]) => f.startsWith('docs/') && f.endsWith('.md')));
  assert.ok(docs.size >= REQUIRED_DOCS.length, 'docs/ was not scanned');
  assert.ok(
    [...files.keys()].some((f) => f.startsWith('src/')),
    'src/ was not scanned',
  );
  const problems = findProblems(files, docs, exists);
  assert.deepEqual(
    problems.map((p) => `${p.file}:${p.line}: ${p.message}`),
    [],
  );
});

test('the checker finds missing files, missing anchors, broken docs links and outside references', () => {
  // Built from pieces so that the real scan above does not read these made-up references as this file's own.
  const D = 'docs' + '/';
  const docs = new Map([
    [`${D}a.md`, '<a id="one"></a>\n# One\nSee [two](#two), [b](b.md#x), [code](../src/nope.ts) and `src/gone.ts`.\n<a id="one"></a>'],
    [`${D}b.md`, '<a id="x"></a>\n# X\n'],
  ]);
  const files = new Map([
    ...docs,
    ['src/ok.ts', `// see ${D}a.md#one and ${D}b.md\n`],
    ['src/bad.ts', `// see ${D}a.md#nope, ${D}c.md#one and https://example.org/${D}zzz.md\n// (spec \u00a7 3.1)\n`],
    ['scripts/x.py', '"""as in spec sec' + 'tion 6 and the style' + '.md notes"""\n'],
  ]);
  const got = findProblems(files, docs, (p) => p === 'src/ok.ts').map((p) => `${p.file}:${p.line}: ${p.message}`);
  const expect = (fragment: string) =>
    assert.ok(
      got.some((g) => g.includes(fragment)),
      `expected a problem like '${fragment}' in:\n${got.join('\n')}`,
    );
  expect(`${D}a.md:0: anchor 'one' is defined twice`);
  expect(`${D}a.md:3: cites ${D}a.md#two: no <a id="two"></a> there`);
  expect(`${D}a.md:3: links to ../src/nope.ts, which does not exist`);
  expect(`${D}a.md:3: names src/gone.ts, which does not exist`);
  expect(`src/bad.ts:1: cites ${D}a.md#nope`);
  expect(`src/bad.ts:1: cites ${D}c.md, which does not exist`);
  expect('src/bad.ts:2: refers to a section sign');
  expect('scripts/x.py:1: refers to a numbered section');
  expect('scripts/x.py:1: refers to the shared style notes');
  assert.ok(!got.some((g) => g.startsWith('src/ok.ts') || g.includes('zzz.md') || g.includes(`${D}b.md#x`)), got.join('\n'));
  assert.equal(got.length, 9, got.join('\n'));
});
