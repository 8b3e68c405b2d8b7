/**
 * Running the real `mic-train` CLI in a child process, the one way every end-to-end and hostile-input test does it:
 * to completion with a time limit (a hang is a failure, not a stuck suite), or live, watching stderr to act at
 * the right moment (signals, kills). Also the small datasets those runs train on, cut from the committed sample,
 * and the checks every user-facing failure must pass.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './tmp.ts';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SAMPLE = path.join(REPO, 'Datasets', 'sample', 'images');
const BIN = path.join(REPO, 'bin', 'mic-train.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall seconds. */
  seconds: number;
  /** Killed by the time limit. */
  timedOut: boolean;
}

export interface CliOptions {
  env?: Record<string, string>;
  /** Killed with SIGKILL after this long (default 15 minutes: a whole training run on a loaded machine). */
  timeoutMs?: number;
  cwd?: string;
  input?: string;
}

/** Run `mic-train ARGS` to completion. */
export function runCli(args: string[], opts: CliOptions = {}): CliResult {
  const t = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? REPO,
    encoding: 'utf8',
    env: { ...process.env, ...opts.env },
    timeout: opts.timeoutMs ?? 900_000,
    killSignal: 'SIGKILL',
    input: opts.input,
  });
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', seconds: (performance.now() - t) / 1000, timedOut };
}

/**
 * Start `mic-train ARGS` without blocking this process (a test's own HTTP server keeps answering);
 * `onStderr(text so far, child)` sees every chunk and is also called every 100 ms (to act once a file appears).
 * Resolves when the process ends; SIGKILL after `timeoutMs` (default 5 minutes).
 */
export function runCliLive(
  args: string[],
  onStderr: (stderr: string, child: ChildProcess) => void = () => {},
  opts: CliOptions = {},
): Promise<CliResult> {
  const t = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? REPO, env: { ...process.env, ...opts.env } });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 300_000);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      onStderr(stderr, child);
    });
    const poll = setInterval(() => onStderr(stderr, child), 100);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(poll);
      resolve({ code, signal, stdout, stderr, seconds: (performance.now() - t) / 1000, timedOut });
    });
  });
}

/** Start `mic-train ARGS` and SIGKILL it as soon as `killWhen(stderr so far)` is true. */
export async function runCliAndKill(
  args: string[],
  killWhen: (stderr: string) => boolean,
  opts: CliOptions = {},
): Promise<CliResult & { killed: boolean }> {
  let killed = false;
  const r = await runCliLive(
    args,
    (stderr, child) => {
      if (!killed && killWhen(stderr)) {
        killed = true;
        child.kill('SIGKILL');
      }
    },
    { timeoutMs: 900_000, ...opts },
  );
  return { ...r, killed };
}

/** A user mistake: exit 2, no hang, no stack trace, no "internal error", and the error is the last line on stderr. */
export function assertUserError(r: CliResult, pattern: RegExp, what = ''): void {
  assert.ok(!r.timedOut, `${what}: timed out after ${r.seconds.toFixed(0)} s\n${r.stderr}`);
  assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at .*:\d+:\d+/, `${what}: stack trace\n${r.stderr}`);
  const last = r.stderr.trim().split('\n').at(-1) ?? '';
  assert.match(last, /^mic-train: /, `${what}: the error is the last line\n${r.stderr}`);
  assert.match(last, pattern, `${what}: message\n${r.stderr}`);
}

/** Parse a CSV written by the run (no quoting needed for our numeric files). */
export function readCsv(file: string): string[][] {
  return fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(','));
}

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

/**
 * A tiny three-epoch MIC run (both tasks, re-clustering every epoch, adversarial term on) of `data` into
 * `out/folder/<name>`: long enough to be killed mid-run and resumed (the resume test, `npm run crash-safety`).
 */
export function tinyMicRunArgs(data: string, out: string, name: string, seed: number): string[] {
  const settings = '--not_pretrained --backend wasm --input-size 32 --bs 8 --n_epochs 3 --shared_num_classes 3 --cluster_update_freq 1'.split(' ');
  const mic = '--task_p 1 0.5 --adv_weights 250 --tau 2 --lr 1e-4'.split(' ');
  return ['--dataset', 'folder', '--source_path', data, '--save_path', out, '--savename', name, ...settings, ...mic, '--seed', String(seed)];
}

/** `root/<class>/<img>` with `perClass` copies of one sample class's images for each class name given (sorted: first half trains). */
export function folderDataset(root: string, classes: string[], perClass = 6, sampleClass = '001.Tshirt_top'): string {
  const files = fs.readdirSync(path.join(SAMPLE, sampleClass)).sort().slice(0, perClass);
  for (const c of classes) {
    fs.mkdirSync(path.join(root, c), { recursive: true });
    for (const f of files) fs.copyFileSync(path.join(SAMPLE, sampleClass, f), path.join(root, c, f));
  }
  return root;
}

/** Entries of the system temp folder, to check that a run leaves nothing behind. */
export function tmpEntries(): Set<string> {
  return new Set(fs.readdirSync(os.tmpdir()));
}
