#!/usr/bin/env node
// `npm test`: every test/**/*.test.ts through node's built-in runner (via tsx). Node 20's --test does not
// expand globs itself, so the files are listed here.
//   node scripts/run-tests.mjs                 all tiers
//   node scripts/run-tests.mjs --tier unit     no command-line runs (fast)
//   node scripts/run-tests.mjs --tier e2e      the end-to-end tier: test/e2e/ and test/robustness/ (CLI runs)
//   node scripts/run-tests.mjs test/eval ...   only these folders/files
// Every test process gets a private TMPDIR; anything a test leaves there is listed and fails the run, so the
// system temp folder holds as many entries after `npm test` as before.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const E2E_DIRS = ['test/e2e', 'test/robustness'];
const args = process.argv.slice(2);
let tier = 'all';
const ti = args.indexOf('--tier');
if (ti >= 0) {
  tier = args[ti + 1];
  args.splice(ti, 2);
  if (!['unit', 'e2e', 'all'].includes(tier)) {
    console.error(`--tier: expected unit, e2e or all, got '${tier}'`);
    process.exit(2);
  }
}
const roots = args.length ? args : ['test'];
const isE2e = (p) => E2E_DIRS.some((d) => p === d || p.startsWith(d + path.sep) || p.startsWith(d + '/'));
const files = [];
const walk = (p) => {
  const st = fs.statSync(p);
  if (st.isDirectory()) for (const e of fs.readdirSync(p).sort()) walk(path.join(p, e));
  else if (p.endsWith('.test.ts')) files.push(p);
};
for (const r of roots) walk(r);
const selected = files.filter((f) => tier === 'all' || (tier === 'e2e') === isE2e(f));
if (selected.length === 0) {
  console.error(`no test files under ${roots.join(', ')} (tier ${tier})`);
  process.exit(1);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-train-tests-'));
// tsx keeps its compile cache in <tmp>/tsx-<uid>: share the system one so every run does not recompile.
const tsxCache = `tsx-${os.userInfo().uid}`;
fs.mkdirSync(path.join(os.tmpdir(), tsxCache), { recursive: true });
fs.symlinkSync(path.join(os.tmpdir(), tsxCache), path.join(tmp, tsxCache));
const env = { ...process.env, TMPDIR: tmp, TMP: tmp, TEMP: tmp };
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...selected], { stdio: 'inherit', env });
let status = r.status ?? 1;
const left = fs.readdirSync(tmp).filter((e) => e !== tsxCache);
if (left.length > 0) {
  console.error(
    `\ntests left ${left.length} entr${left.length === 1 ? 'y' : 'ies'} in the temp folder (each test must remove what it writes): ${left.join(', ')}`,
  );
  if (status === 0) status = 1;
}
fs.unlinkSync(path.join(tmp, tsxCache));
fs.rmSync(tmp, { recursive: true, force: true });
process.exit(status);
