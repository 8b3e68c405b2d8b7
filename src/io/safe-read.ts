/**
 * Reading a file the user pointed at, without surprises: only regular files (after following links) are
 * read, never more than a size cap per kind of file, and every refusal says why in words. A link to
 * `/dev/zero` named `x.jpg`, a FIFO, a folder or a 100 GB file would otherwise be read whole (memory grows
 * without bound, or the read blocks forever).
 *
 * The caps can be raised per kind with an environment variable (`MIC_TRAIN_MAX_IMAGE_MB`, …) for the rare
 * genuine file that is larger.
 */
import fs from 'node:fs';
import { UserError } from '../errors.ts';

/** What a file is read as; each kind has its own size cap. */
export type FileKind = 'image' | 'weights' | 'config' | 'index';

const MiB = 1024 * 1024;

/** Default caps in bytes. Weights: ResNet50 is ~100 MB; 2 GiB leaves room for larger backbones and galleries. */
export const DEFAULT_SIZE_CAPS: Readonly<Record<FileKind, number>> = {
  image: 256 * MiB,
  weights: 2048 * MiB,
  config: 64 * MiB,
  index: 512 * MiB,
};

const KIND_WORDS: Record<FileKind, string> = { image: 'image', weights: 'weights', config: 'configuration', index: 'index' };

/** The environment variable that raises the cap of a kind, e.g. `MIC_TRAIN_MAX_IMAGE_MB`. */
export function capVariable(kind: FileKind): string {
  return `MIC_TRAIN_MAX_${kind.toUpperCase()}_MB`;
}

/** The cap for `kind` in bytes (the environment variable wins when it holds a positive number). */
export function sizeCap(kind: FileKind): number {
  const env = Number(process.env[capVariable(kind)]);
  return Number.isFinite(env) && env > 0 ? Math.floor(env * MiB) : DEFAULT_SIZE_CAPS[kind];
}

/** A file that was not read, and why (`reason` is a phrase: "is a folder", "not found", …). */
export class FileRefusedError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
    readonly code?: string,
  ) {
    super(`'${path}' ${reason}`);
    this.name = 'FileRefusedError';
  }
}

function formatBytes(n: number): string {
  return n >= MiB ? `${(n / MiB).toFixed(n >= 100 * MiB ? 0 : 1)} MiB` : `${n} bytes`;
}

/** "a folder", "a character device", … for a stat that is not a regular file; null for a regular file. */
function notRegular(st: fs.Stats): string | null {
  if (st.isFile()) return null;
  if (st.isDirectory()) return 'is a folder, not a file';
  if (st.isCharacterDevice()) return 'is a character device (e.g. /dev/zero), not a regular file';
  if (st.isBlockDevice()) return 'is a block device, not a regular file';
  if (st.isFIFO()) return 'is a named pipe (FIFO), not a regular file';
  if (st.isSocket()) return 'is a socket, not a regular file';
  return 'is not a regular file';
}

function tooLarge(file: string, size: number, kind: FileKind, cap: number): FileRefusedError {
  return new FileRefusedError(
    file,
    `is ${size > cap ? `${formatBytes(size)}` : 'larger than the limit'}, over the ${formatBytes(cap)} limit for ${KIND_WORDS[kind]} files (set ${capVariable(kind)} to raise it)`,
    'E2BIG',
  );
}

/** A system error as a phrase about the file. Names with bytes that are not UTF-8 cannot be opened by Node. */
function describeErrno(file: string, e: unknown): FileRefusedError {
  const err = e as NodeJS.ErrnoException;
  const code = err?.code;
  if (code === 'ENOENT' && file.includes('\uFFFD')) {
    return new FileRefusedError(
      file,
      'was not found: its name holds bytes that are not valid UTF-8 (shown as \uFFFD), which Node cannot open; rename it',
      code,
    );
  }
  const words: Record<string, string> = {
    ENOENT: 'was not found',
    ENOTDIR: 'was not found (a part of the path is not a folder)',
    EACCES: 'cannot be read (permission denied)',
    EPERM: 'cannot be read (operation not permitted)',
    EISDIR: 'is a folder, not a file',
    ELOOP: 'cannot be read (too many levels of symbolic links: a link loop?)',
    ENAMETOOLONG: 'cannot be read (name too long)',
    EIO: 'cannot be read (input/output error)',
    EMFILE: 'cannot be read (too many open files)',
  };
  return new FileRefusedError(file, code && words[code] ? words[code] : `cannot be read (${err?.message ?? String(e)})`, code);
}

/**
 * Checks a stat of the path (links followed) before opening: a FIFO would block the open itself.
 * Returns the size the file claims.
 */
function checkStat(file: string, st: fs.Stats, kind: FileKind, cap: number): void {
  const bad = notRegular(st);
  if (bad) throw new FileRefusedError(file, bad, 'ENOTREG');
  if (st.size > cap) throw tooLarge(file, st.size, kind, cap);
}

/** Opens without blocking on a FIFO swapped in after the stat (O_NONBLOCK is a no-op for regular files). */
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

/**
 * Collects a file's bytes as they are read, refusing more than `cap`: starts at the size the file claims
 * (+1 to see the end) and grows for files that lie about their size (/proc) or grow while being read.
 */
class CappedBytes {
  private buf: Buffer;
  private len = 0;
  constructor(
    private readonly file: string,
    private readonly kind: FileKind,
    private readonly cap: number,
    claimedSize: number,
  ) {
    this.buf = Buffer.allocUnsafe(Math.min(cap + 1, claimedSize + 1));
  }

  /** Where the next read goes: [buffer, offset, length]. */
  space(): [Buffer, number, number] {
    if (this.len === this.buf.length) {
      if (this.len > this.cap) throw tooLarge(this.file, this.len, this.kind, this.cap);
      const bigger = Buffer.allocUnsafe(Math.min(this.cap + 1, Math.max(64 * 1024, this.len * 2)));
      this.buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
    }
    return [this.buf, this.len, this.buf.length - this.len];
  }

  /** `n` bytes were read into `space()`; false at end of file. */
  advance(n: number): boolean {
    this.len += n;
    return n > 0;
  }

  bytes(): Buffer {
    if (this.len > this.cap) throw tooLarge(this.file, this.len, this.kind, this.cap);
    return this.buf.subarray(0, this.len);
  }
}

/**
 * The bytes of a regular file of at most `sizeCap(kind)` bytes. Throws `FileRefusedError` otherwise. Reads
 * until end of file, so a file that grows while being read (or a /proc file that reports size 0) is
 * still bounded by the cap.
 */
export function readFileCapped(file: string, kind: FileKind): Buffer {
  const cap = sizeCap(kind);
  let fd: number | undefined;
  try {
    checkStat(file, fs.statSync(file), kind, cap);
    fd = fs.openSync(file, OPEN_FLAGS);
    const st = fs.fstatSync(fd);
    checkStat(file, st, kind, cap);
    const out = new CappedBytes(file, kind, cap, st.size);
    while (out.advance(fs.readSync(fd, ...out.space(), null)));
    return out.bytes();
  } catch (e) {
    if (e instanceof FileRefusedError) throw e;
    throw describeErrno(file, e);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** `readFileCapped` on libuv's pool (for the main thread, which must not block on disk). */
export async function readFileCappedAsync(file: string, kind: FileKind): Promise<Buffer> {
  const cap = sizeCap(kind);
  let fh: fs.promises.FileHandle | undefined;
  try {
    checkStat(file, await fs.promises.stat(file), kind, cap);
    fh = await fs.promises.open(file, OPEN_FLAGS);
    const st = await fh.stat();
    checkStat(file, st, kind, cap);
    const out = new CappedBytes(file, kind, cap, st.size);
    while (out.advance((await fh.read(...out.space(), null)).bytesRead));
    return out.bytes();
  } catch (e) {
    if (e instanceof FileRefusedError) throw e;
    throw describeErrno(file, e);
  } finally {
    await fh?.close();
  }
}

/**
 * Whether `file` would be read: a regular file (links followed) within the cap. Only a stat, for checks
 * before expensive work; a refusal is a `UserError` starting with `label`. A folder is left to the reader
 * (some readers take one).
 */
export function checkUserFile(file: string, kind: FileKind, label: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new UserError(`${label} ${describeErrno(file, e).message}`);
  }
  if (st.isDirectory()) return;
  try {
    checkStat(file, st, kind, sizeCap(kind));
  } catch (e) {
    if (e instanceof FileRefusedError) throw new UserError(`${label} ${e.message}`);
    throw e;
  }
}

/**
 * `readFileCapped` for a file named by the user: a refusal becomes a one-line `UserError` starting with
 * `label` (a flag such as `--pretrained`, or a phrase such as `checkpoint file`).
 */
export function readUserFile(file: string, kind: FileKind, label: string): Buffer {
  try {
    return readFileCapped(file, kind);
  } catch (e) {
    if (e instanceof FileRefusedError) throw new UserError(`${label} ${e.message}`);
    throw e;
  }
}

/** `readUserFile` as UTF-8 text. */
export function readUserText(file: string, kind: FileKind, label: string): string {
  return readUserFile(file, kind, label).toString('utf8');
}
