/**
 * Helpers shared by the dataset loaders: reading a folder layout or an index file, failing with a
 * `UserError` that names the missing path and shows the layout that was expected, Python-compatible
 * sort orders, and turning class keys into contiguous labels.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.ts';
import { readUserText } from '../../io/safe-read.ts';
import { dataWarn } from '../warnings.ts';
import { isWithin, readDirEntries, realPathOrNull, type DirEntry } from './dir-entries.ts';
import type { ManifestItem, Split } from '../manifest.ts';

/** File extensions the image pipeline (sharp) decodes; other files in class folders are ignored. */
export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif']);

/** One line describing where a dataset's files are expected, used in every layout error. */
export interface LayoutDescription {
  /** `--dataset` value, e.g. `cub200`. */
  dataset: string;
  /** Expected layout relative to the dataset root, e.g. `images/<NNN.ClassName>/<image>.jpg`. */
  layout: string;
}

function layoutHint(root: string, d: LayoutDescription): string {
  const hint = d.dataset === 'folder' ? '--source_path' : `--source_path (the parent of the '${path.basename(root)}' folder)`;
  return `expected ${path.join(root, d.layout)}; check ${hint}`;
}

/** A note for paths that arrived with bytes that are not UTF-8 (Node shows them as U+FFFD and cannot open them). */
function notUtf8Hint(p: string): string {
  return p.includes('\uFFFD') ? ' (its name holds bytes that are not valid UTF-8, which Node cannot open: rename it)' : '';
}

/** Throw a `UserError` unless `dir` is a directory. */
export function requireDir(dir: string, root: string, d: LayoutDescription): void {
  let ok = false;
  try {
    ok = fs.statSync(dir).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok) throw new UserError(`--dataset ${d.dataset}: folder '${dir}' not found${notUtf8Hint(dir)}; ${layoutHint(root, d)}`);
}

/** Throw a `UserError` unless `file` is a readable file. */
export function requireFile(file: string, root: string, d: LayoutDescription): void {
  let ok = false;
  try {
    ok = fs.statSync(file).isFile();
  } catch {
    ok = false;
  }
  if (!ok) throw new UserError(`--dataset ${d.dataset}: index file '${file}' not found; ${layoutHint(root, d)}`);
}

/**
 * Every image file under `root` (recursively, sorted by name, hidden files skipped, linked folders followed
 * once: a link back to a folder already walked is a loop and skipped); a `UserError` naming `flag` when none.
 */
export function listImagesRecursive(root: string, flag: string): string[] {
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new UserError(`${flag}: '${root}' is not a folder`);
  const out: string[] = [];
  const walked = new Set<string>();
  const isImage = (e: DirEntry) => e.kind !== 'dir' && IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase());
  const walk = (d: string) => {
    const real = realPathOrNull(d);
    if (real === null || walked.has(real)) return;
    walked.add(real);
    const entries = readDirEntries(d, (e) => !e.name.startsWith('.') && (e.kind === 'dir' || isImage(e)));
    for (const e of entries.sort((a, b) => pythonStringCompare(a.name, b.name))) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(d, e.name);
      if (e.kind === 'dir') walk(p);
      else if (isImage(e)) out.push(p);
    }
  };
  walk(root);
  if (out.length === 0) throw new UserError(`${flag}: no images (${[...IMAGE_EXTENSIONS].join(', ')}) under '${root}'`);
  return out;
}

/** macOS resource forks (`._x.jpg`) and hidden files are never data (the original skipped names containing `._`). */
function isJunkName(name: string): boolean {
  return name.startsWith('.') || name.includes('._');
}

/**
 * Sub-folder names of `dir` (junk names skipped), unsorted. Linked folders count, as for Python's
 * `os.path.isdir`; a link to a folder that encloses `dir` (a loop) is skipped with a warning, and two names
 * for the same folder are an error (the same images cannot be two classes).
 */
export function listSubdirs(dir: string): string[] {
  const isClass = (e: DirEntry) => e.kind === 'dir' && !isJunkName(e.name);
  const realDir = realPathOrNull(dir);
  const seen = new Map<string, string>();
  const out: string[] = [];
  for (const e of readDirEntries(dir, isClass).filter(isClass)) {
    const p = path.join(dir, e.name);
    const real = realPathOrNull(p);
    if (real === null) continue;
    if (realDir !== null && isWithin(realDir, real)) {
      dataWarn(`folder '${p}' is a link to '${real}', which contains it (a loop); skipped`);
      continue;
    }
    const other = seen.get(real);
    if (other !== undefined) {
      throw new UserError(
        `class folders '${path.join(dir, other)}' and '${p}' are the same folder ('${real}'); the same images cannot be two classes: remove one`,
      );
    }
    seen.set(real, e.name);
    out.push(e.name);
  }
  return out;
}

/**
 * Image file names in `dir` (by extension, case-insensitive; junk names skipped), in Python string order.
 * Links and anything else with an image name are listed: a dangling link is reported as missing by the
 * manifest check, a device or pipe is refused (and counted) when read.
 */
export function listImages(dir: string): string[] {
  const isImage = (e: DirEntry) => e.kind !== 'dir' && !isJunkName(e.name) && IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase());
  return readDirEntries(dir, isImage)
    .filter(isImage)
    .map((e) => e.name)
    .sort(pythonStringCompare);
}

/**
 * Python's `sorted()` order for strings: by Unicode code point, case-sensitive. (JavaScript's default
 * sort compares UTF-16 code units, which differs for characters outside the BMP.)
 */
export function pythonStringCompare(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const ca = ia.next();
    const cb = ib.next();
    if (ca.done || cb.done) return ca.done && cb.done ? 0 : ca.done ? -1 : 1;
    const d = (ca.value.codePointAt(0) ?? 0) - (cb.value.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
}

/** Non-empty lines of a text file, trimmed, with CRLF handled. */
export function readLines(file: string): string[] {
  return readUserText(file, 'index', 'index file')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

/**
 * Items of one split from (path, class key) pairs: labels are the rank of the key among the split's
 * distinct keys under `compare`, so labels are contiguous 0..C-1 in that order.
 * Returns the items and the class names (`nameOf(key)`) indexed by label.
 */
export function labelSplit<K extends string | number>(
  entries: { path: string; key: K; extra?: Partial<ManifestItem> }[],
  split: Split,
  compare: (a: K, b: K) => number,
  nameOf: (key: K) => string = String,
): { items: ManifestItem[]; classNames: string[] } {
  const keys = [...new Set(entries.map((e) => e.key))].sort(compare);
  const labelOf = new Map<K, number>(keys.map((k, i) => [k, i]));
  const items = entries.map((e) => ({ ...e.extra, path: e.path, label: labelOf.get(e.key)!, split }));
  return { items, classNames: keys.map(nameOf) };
}

/** The CUB/CARS/folder rule: the first ⌊C/2⌋ classes in sort order train, the rest test. */
export function halfSplit<T>(sortedClasses: T[]): { train: T[]; test: T[] } {
  const cut = Math.floor(sortedClasses.length / 2);
  return { train: sortedClasses.slice(0, cut), test: sortedClasses.slice(cut) };
}

/**
 * Parse one whitespace-separated line of an index file into exactly `n` fields (extra whitespace-separated
 * fields are an error). Throws a `UserError` naming the file and line.
 */
export function splitFields(line: string, n: number, file: string, lineNo: number, expected: string): string[] {
  const fields = line.split(/\s+/);
  if (fields.length !== n) {
    throw new UserError(`'${file}' line ${lineNo}: expected ${n} fields (${expected}), found ${fields.length}: '${line.slice(0, 120)}'`);
  }
  return fields;
}

/** Parse a non-negative integer field or throw a `UserError` naming the file and line. */
export function intField(text: string, file: string, lineNo: number, what: string): number {
  const digits = /^\D*?(\d+)$/.exec(text);
  if (!digits) throw new UserError(`'${file}' line ${lineNo}: expected ${what} to end in a number, found '${text}'`);
  return Number(digits[1]);
}
