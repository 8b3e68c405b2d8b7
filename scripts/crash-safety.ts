/**
 * Crash safety: 10 seeded trials of a tiny MIC run, each SIGKILLed at a random moment (seeded) and then continued
 * with --resume (or started again when it died before its first epoch ended, as the error message tells a user).
 * Every trial must end with the same CSV rows (times aside) as the uninterrupted run. Prints "k/10".
 *   npm run crash-safety [-- --trials N]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { makeTinyFolderDataset, REPO, tinyMicRunArgs } from '../test/helpers/cli.ts';
import { Rng } from '../src/rng.ts';

const trials = Number(process.argv[process.argv.indexOf('--trials') + 1]) || 10;
const data = makeTinyFolderDataset(8);
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-crash-'));
const BIN = path.join(REPO, 'bin', 'mic-train.js');
const args = (name: string) => tinyMicRunArgs(data, out, name, 11);

function run(argv: string[], killAfterMs?: number): Promise<{ code: number | null; killed: boolean; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [BIN, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.resume();
    let killed = false;
    const timer =
      killAfterMs === undefined
        ? null
        : setTimeout(() => {
            killed = true;
            child.kill('SIGKILL');
          }, killAfterMs);
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, killed, ms: Date.now() - t0 });
    });
  });
}

const rows = (name: string) =>
  ['log_train_Class.csv', 'log_val_Class.csv']
    .map((f) =>
      fs
        .readFileSync(path.join(out, 'folder', name, f), 'utf8')
        .trim()
        .split('\n')
        .map((l) =>
          l
            .split(',')
            .filter((_, i) => i !== 1)
            .join(','),
        ),
    )
    .flat()
    .join('\n');

const ref = await run(args('ref'));
if (ref.code !== 0) throw new Error('reference run failed');
const expected = rows('ref');
console.log(`reference run: ${(ref.ms / 1000).toFixed(1)} s`);
const rng = new Rng(2024, 'crash-safety');
let ok = 0;
for (let t = 0; t < trials; t++) {
  const name = `trial${t}`;
  const killAt = Math.round(rng.uniform(0.05, 0.95) * ref.ms);
  const first = await run(args(name), killAt);
  let resumes = 0;
  let last = first;
  while (last.code !== 0 && resumes < 5) {
    const dir = path.join(out, 'folder', name);
    const canResume = fs.existsSync(path.join(dir, 'last')) || fs.existsSync(path.join(dir, 'last.old'));
    if (!canResume) fs.rmSync(dir, { recursive: true, force: true });
    last = await run(canResume ? ['--resume', dir] : args(name));
    resumes++;
  }
  const same = last.code === 0 && rows(name) === expected;
  if (same) ok++;
  console.log(
    `trial ${t + 1}: killed at ${(killAt / 1000).toFixed(1)} s${first.killed ? '' : ' (finished first)'}, ${resumes} restart(s): ${same ? 'identical' : 'DIFFERENT'}`,
  );
}
console.log(`${ok}/${trials}`);
process.exitCode = ok === trials ? 0 : 1;
