/**
 * End-to-end helpers: a tiny folder dataset cut from the committed sample dataset, and a way to run the real
 * `mic-train` CLI in a child process.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/tmp.ts';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SAMPLE = path.join(REPO, 'Datasets', 'sample', 'images');

/**
 * `root/<class>/<img>` with train classes first in sort order (split-mode half): fashion + digit classes on each
 * side, `perClass` images each.
 */
export function makeTinyFolderDataset(perClass = 12, opts: { train?: string[]; test?: string[] } = {}): string {
  const root = tempDir('mic-e2e-');
  const train = opts.train ?? ['001.Tshirt_top', '002.Trouser', '006.Digit_zero', '007.Digit_one'];
  const test = opts.test ?? ['011.Sandal', '013.Sneaker', '016.Digit_five', '017.Digit_six'];
  const all = [...train.map((c) => ['a', c] as const), ...test.map((c) => ['b', c] as const)];
  for (const [side, cls] of all) {
    const dst = path.join(root, `${side}_${cls}`);
    fs.mkdirSync(dst);
    for (const f of fs.readdirSync(path.join(SAMPLE, cls)).sort().slice(0, perClass)) fs.copyFileSync(path.join(SAMPLE, cls, f), path.join(dst, f));
  }
  return root;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const BIN = path.join(REPO, 'bin', 'mic-train.js');

/** Run `mic-train ARGS` to completion. */
export function runCli(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: REPO, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 900_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Start `mic-train ARGS` and SIGKILL it as soon as `killWhen(stderr so far)` is true. */
export function runCliAndKill(args: string[], killWhen: (stderr: string) => boolean): Promise<CliResult & { killed: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!killed && killWhen(stderr)) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('close', (code) => resolve({ code, stdout, stderr, killed }));
  });
}

/** Parse a CSV written by the run (no quoting needed for our numeric files). */
export function readCsv(file: string): string[][] {
  return fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split(','));
}
