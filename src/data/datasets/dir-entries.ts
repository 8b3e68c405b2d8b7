/**
 * Reading a dataset folder the way Python's `os.listdir` + `os.path.isdir` (and so torchvision's
 * ImageFolder) sees it: symbolic links are followed (a linked class folder is a class folder), link loops
 * are skipped, and names that are not valid UTF-8 — which Node can list but never open again — are refused
 * with a message naming the folder instead of failing later as "not found".
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.ts';

/** One entry of a folder, with links resolved. */
export interface DirEntry {
  /** The name as Node decodes it (invalid UTF-8 bytes become U+FFFD). */
  name: string;
  /** 'dir' / 'file' after following links; 'dangling' for a link to nothing; 'other' for devices, FIFOs… */
  kind: 'dir' | 'file' | 'dangling' | 'other';
  /** Whether the entry itself is a symbolic link. */
  link: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function validUtf8(raw: Buffer): boolean {
  try {
    utf8.decode(raw);
    return true;
  } catch {
    return false;
  }
}

function kindOf(dir: string, e: fs.Dirent<string> | fs.Dirent<Buffer>, name: string): DirEntry['kind'] {
  if (e.isDirectory()) return 'dir';
  if (e.isFile()) return 'file';
  if (!e.isSymbolicLink()) return 'other';
  try {
    const st = fs.statSync(path.join(dir, name));
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  } catch {
    return 'dangling';
  }
}

/**
 * Entries of `dir`, links resolved. An entry whose name is not valid UTF-8 is a `UserError` naming `dir`
 * when `matters(entry)` says it would be used (a folder, an image); otherwise it is left out.
 */
export function readDirEntries(dir: string, matters: (e: DirEntry) => boolean): DirEntry[] {
  let raw: fs.Dirent<Buffer>[];
  try {
    raw = fs.readdirSync(dir, { withFileTypes: true, encoding: 'buffer' });
  } catch (e) {
    throw new UserError(`cannot list folder '${dir}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const out: DirEntry[] = [];
  for (const e of raw) {
    const bytes = e.name as unknown as Buffer;
    const name = bytes.toString('utf8');
    const valid = validUtf8(bytes);
    // A name with invalid bytes cannot be joined into an openable path: resolve its kind from the Dirent only.
    const entry: DirEntry = {
      name,
      kind: valid ? kindOf(dir, e, name) : e.isDirectory() ? 'dir' : e.isFile() || e.isSymbolicLink() ? 'file' : 'other',
      link: e.isSymbolicLink(),
    };
    if (!valid) {
      if (!matters(entry)) continue;
      throw new UserError(
        `folder '${dir}' holds ${entry.kind === 'dir' ? 'a folder' : 'a file'} whose name is not valid UTF-8 ('${name}', bytes ${bytes.toString('hex')}); ` +
          'Node cannot open such names: rename it (e.g. `convmv -f latin1 -t utf8 --notest -r FOLDER`)',
      );
    }
    out.push(entry);
  }
  return out;
}

/** Real path, or null when it cannot be resolved. */
export function realPathOrNull(p: string): string | null {
  try {
    return fs.realpathSync(p);
  } catch {
    return null;
  }
}

/** Whether `inner` is `outer` or lies inside it (both real paths). */
export function isWithin(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(outer.endsWith(path.sep) ? outer : outer + path.sep);
}
