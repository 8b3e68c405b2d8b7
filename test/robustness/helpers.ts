/**
 * Helpers of the hostile-input suite: temp folders removed when the test file ends, the CLI run with a
 * time limit (a hang is a failure, not a stuck suite), and the checks every user-facing failure must pass.
 */
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from '../e2e/helpers.ts';

export { REPO };
export const SAMPLE = path.join(REPO, 'Datasets', 'sample', 'images');
const BIN = path.join(REPO, 'bin', 'mic-train.js');

const made: string[] = [];
after(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A new temp folder, removed (with everything in it) when the test file ends. */
export function scratch(prefix = 'mic-robust-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall seconds. */
  seconds: number;
  timedOut: boolean;
}

/** Run `mic-train ARGS` with a time limit (default 120 s); a run killed by the limit has `timedOut`. */
export function cli(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number; cwd?: string; input?: string } = {}): Run {
  const t = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? REPO,
    encoding: 'utf8',
    env: { ...process.env, ...opts.env },
    timeout: opts.timeoutMs ?? 120_000,
    killSignal: 'SIGKILL',
    input: opts.input,
  });
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', seconds: (performance.now() - t) / 1000, timedOut };
}

/**
 * Start `mic-train ARGS`; `onStderr(text so far, child)` sees every chunk and is also called every 100 ms
 * (to send signals at the right moment, e.g. once a file appears). Resolves when the process ends; killed
 * with SIGKILL after `timeoutMs`.
 */
export function cliLive(
  args: string[],
  onStderr: (stderr: string, child: ReturnType<typeof spawn>) => void,
  opts: { timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<Run> {
  const t = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env: { ...process.env, ...opts.env } });
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

/** A user mistake: exit 2, no hang, no stack trace, no "internal error", and exactly one line on stderr (after `allowedLines` log lines). */
export function assertUserError(r: Run, pattern: RegExp, what = ''): void {
  assert.ok(!r.timedOut, `${what}: timed out after ${r.seconds.toFixed(0)} s\n${r.stderr}`);
  assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at .*:\d+:\d+/, `${what}: stack trace\n${r.stderr}`);
  const last = r.stderr.trim().split('\n').at(-1) ?? '';
  assert.match(last, /^mic-train: /, `${what}: the error is the last line\n${r.stderr}`);
  assert.match(last, pattern, `${what}: message\n${r.stderr}`);
}

/** `root/<class>/<img>` with `perClass` copies of sample images for each class name given (sorted: first half trains). */
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
