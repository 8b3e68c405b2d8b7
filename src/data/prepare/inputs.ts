/**
 * What every `prepare` step shares: its options, finding the user's input files under `--from DIR` (the layouts
 * publishers ship differ by a folder level or two), and copying a folder of images into a staging folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.ts';
import type { TransferProgressOptions } from '../../io/transfer-progress.ts';
import { placeFile } from './install.ts';

export interface PrepareOptions {
  /** Parent of the dataset folders (`--source_path`). */
  sourcePath: string;
  log?: (line: string) => void;
  progress?: TransferProgressOptions;
  /** Skip the sha256 check of an archive the sources table describes. */
  noVerify?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** The input folder, or a UserError. */
export function requireFromDir(from: string): string {
  const dir = path.resolve(from);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UserError(`--from ${from}: not a folder`);
  return dir;
}

/** The first of `candidates` (paths relative to `dir`) that exists as a file (`kind` 'file') or folder. */
export function findIn(dir: string, candidates: string[], kind: 'file' | 'dir'): string | null {
  for (const c of candidates) {
    const p = path.join(dir, c);
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (st && (kind === 'file' ? st.isFile() : st.isDirectory())) return p;
  }
  return null;
}

/** Every regular file under `src` placed at the same relative path under `dst` (hard links where possible); returns the count. */
export function placeTree(src: string, dst: string): number {
  let n = 0;
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(src, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) {
        placeFile(path.join(src, r), path.join(dst, r));
        n += 1;
      }
    }
  };
  walk('');
  return n;
}
