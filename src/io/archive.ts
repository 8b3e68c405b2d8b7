/**
 * Unpacking .tgz / .tar / .zip archives in-process (`tar` and `yauzl`, no shell), each member through a
 * caller-given map from its archive path to a path under the target folder (or null to skip it), so an archive
 * lands directly in the layout a loader reads. Safety: a member whose path is absolute, has a drive letter,
 * contains `..` or a NUL, or a link whose target is absolute or climbs with `..`, is refused with a UserError
 * naming it; every file is created inside the target's real path (no writing through links), never over an
 * existing link. Callers unpack into a fresh staging folder and delete it when this throws.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Parser, type ReadEntry } from 'tar';
import yauzl from 'yauzl';
import { UserError } from '../errors.ts';
import { TransferProgress, type TransferProgressOptions } from './transfer-progress.ts';

/** Archive path (normalised, '/'-separated) → path relative to the target folder, or null to skip the member. */
export type MemberMap = (member: string) => string | null;

export interface ExtractOptions {
  /** Folder that receives everything; created if missing. */
  dest: string;
  map: MemberMap;
  /** Progress over the archive's (compressed) bytes; omitted = no display. */
  progress?: TransferProgressOptions;
  /** Aborting stops after the current member with a UserError (exit code 130). */
  signal?: AbortSignal;
}

export interface ExtractResult {
  files: number;
  bytes: number;
  links: number;
  /** Members the map skipped (or of a kind not unpacked: devices, fifos). */
  skipped: number;
}

export type ArchiveKind = 'gzip-tar' | 'tar' | 'zip';

/** What the file is, from its first bytes; null when neither a tar, a gzip nor a zip. */
export function archiveKind(file: string): ArchiveKind | null {
  const head = Buffer.alloc(512);
  const fd = fs.openSync(file, 'r');
  let n: number;
  try {
    n = fs.readSync(fd, head, 0, 512, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip-tar';
  if (n >= 4 && head.readUInt32LE(0) === 0x04034b50) return 'zip';
  if (n >= 512 && head.toString('latin1', 257, 262) === 'ustar') return 'tar';
  return null;
}

class Refusal extends Error {}

/**
 * A member's path, normalised ('/'-separated, no empty or '.' parts), or a Refusal: absolute (leading '/' or
 * '\', a drive letter), '..' anywhere, NUL bytes. Backslashes count as separators for this check.
 */
export function safeMemberPath(name: string): string {
  if (name.includes('\0')) throw new Refusal('NUL byte in the name');
  if (/^([a-zA-Z]:|[\\/])/.test(name)) throw new Refusal('absolute path');
  const parts = name.split(/[\\/]+/);
  if (parts.includes('..')) throw new Refusal("'..' in the path");
  return parts.filter((p) => p !== '' && p !== '.').join('/');
}

/** Writes members below the target folder, enforcing the rules above. */
class Writer {
  readonly result: ExtractResult = { files: 0, bytes: 0, links: 0, skipped: 0 };
  private readonly root: string;

  constructor(
    private readonly archive: string,
    dest: string,
    private readonly map: MemberMap,
    private readonly signal?: AbortSignal,
  ) {
    fs.mkdirSync(dest, { recursive: true });
    this.root = fs.realpathSync(dest);
  }

  refuse(member: string, why: string): UserError {
    return new UserError(`${this.archive}: refused member '${member}' (${why}); the archive was not unpacked`);
  }

  /** Absolute output path of a member, or null when skipped. */
  private target(member: string): string | null {
    if (this.signal?.aborted) throw new UserError(`interrupted while unpacking ${this.archive}; run the same command again`, 130);
    let rel: string | null;
    try {
      const clean = safeMemberPath(member);
      if (clean === '') return null;
      rel = this.map(clean);
      if (rel === null) return null;
      rel = safeMemberPath(rel);
    } catch (e) {
      if (e instanceof Refusal) throw this.refuse(member, e.message);
      throw e;
    }
    const out = path.resolve(this.root, rel);
    if (!out.startsWith(this.root + path.sep)) throw this.refuse(member, 'path leaves the target folder');
    return out;
  }

  /** Creates the parent folders of `out`, checking that they really are inside the target (no link in the way). */
  private parentOf(member: string, out: string): void {
    const dir = path.dirname(out);
    fs.mkdirSync(dir, { recursive: true });
    const real = fs.realpathSync(dir);
    if (real !== this.root && !real.startsWith(this.root + path.sep)) throw this.refuse(member, 'a link in its path leads outside the target folder');
    const st = fs.lstatSync(out, { throwIfNoEntry: false });
    if (st?.isSymbolicLink() || st?.isDirectory()) throw this.refuse(member, 'would replace a link or a folder');
    if (st) fs.rmSync(out);
  }

  /** A regular file: returns the write/close pair, or null when skipped. */
  file(member: string): { write(chunk: Buffer): void; close(): void } | null {
    const out = this.target(member);
    if (out === null) {
      this.result.skipped += 1;
      return null;
    }
    this.parentOf(member, out);
    const fd = fs.openSync(out, 'wx');
    this.result.files += 1;
    return {
      write: (chunk) => {
        fs.writeSync(fd, chunk);
        this.result.bytes += chunk.length;
      },
      close: () => fs.closeSync(fd),
    };
  }

  dir(member: string): void {
    const out = this.target(member);
    if (out !== null) fs.mkdirSync(out, { recursive: true });
  }

  symlink(member: string, linkTarget: string): void {
    if (/^([a-zA-Z]:|[\\/])/.test(linkTarget) || linkTarget.split(/[\\/]+/).includes('..')) {
      throw this.refuse(member, `link to '${linkTarget}' points outside the target folder`);
    }
    const out = this.target(member);
    if (out === null) return void (this.result.skipped += 1);
    this.parentOf(member, out);
    fs.symlinkSync(linkTarget, out);
    this.result.links += 1;
  }

  hardlink(member: string, linkTarget: string): void {
    const out = this.target(member);
    let source: string | null;
    try {
      source = this.target(linkTarget);
    } catch {
      throw this.refuse(member, `hard link to '${linkTarget}' points outside the target folder`);
    }
    if (out === null || source === null) return void (this.result.skipped += 1);
    if (!fs.existsSync(source)) throw this.refuse(member, `hard link to '${linkTarget}', which is not an unpacked file`);
    this.parentOf(member, out);
    fs.linkSync(source, out);
    this.result.links += 1;
  }

  skip(): void {
    this.result.skipped += 1;
  }
}

function extractTar(archive: string, w: Writer, progress: TransferProgress | null): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed = false;
    const input = fs.createReadStream(archive);
    const fail = (e: unknown) => {
      if (failed) return;
      failed = true;
      input.destroy();
      reject(e instanceof UserError ? e : new UserError(`${archive}: not a readable tar archive (${(e as Error).message})`));
    };
    const onEntry = (entry: ReadEntry) => {
      if (failed) return void entry.resume();
      try {
        switch (entry.type) {
          case 'File':
          case 'OldFile':
          case 'ContiguousFile': {
            const out = w.file(entry.path);
            if (!out) return void entry.resume();
            entry.on('data', (chunk: Buffer) => {
              if (failed) return;
              try {
                out.write(chunk);
              } catch (e) {
                fail(e);
              }
            });
            entry.on('end', () => out.close());
            return;
          }
          case 'Directory':
            w.dir(entry.path);
            break;
          case 'SymbolicLink':
            w.symlink(entry.path, entry.linkpath ?? '');
            break;
          case 'Link':
            w.hardlink(entry.path, entry.linkpath ?? '');
            break;
          default:
            w.skip();
        }
        entry.resume();
      } catch (e) {
        entry.resume();
        fail(e);
      }
    };
    const parser = new Parser({ strict: true, onReadEntry: onEntry });
    parser.on('error', fail);
    parser.on('end', () => {
      if (!failed) resolve();
    });
    input.on('error', fail);
    let read = 0;
    input.on('data', (c) => progress?.update((read += c.length)));
    input.pipe(parser);
  });
}

async function extractZip(archive: string, w: Writer, progress: TransferProgress | null): Promise<void> {
  let zip: yauzl.ZipFile;
  try {
    // decodeStrings off: names are decoded below without yauzl's own (throwing) path validation, so every
    // refusal comes from one place with one message.
    zip = await yauzl.openPromise(archive, { lazyEntries: true, decodeStrings: false, validateEntrySizes: true, autoClose: true });
  } catch (e) {
    throw new UserError(`${archive}: not a readable zip archive (${(e as Error).message})`);
  }
  let done = 0;
  try {
    for await (const entry of zip.eachEntry()) {
      const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
      done += entry.compressedSize;
      const mode = (entry.externalFileAttributes >>> 16) & 0o170000;
      if (name.endsWith('/')) {
        w.dir(name);
        continue;
      }
      if (entry.isEncrypted())
        throw new UserError(`${archive}: member '${name}' is encrypted; unpack the archive with its password first and pass the folder instead`);
      if (mode === 0o120000) {
        const chunks: Buffer[] = [];
        for await (const c of await zip.openReadStreamPromise(entry)) chunks.push(c as Buffer);
        w.symlink(name, Buffer.concat(chunks).toString('utf8'));
        continue;
      }
      if (mode !== 0 && mode !== 0o100000) {
        w.skip();
        continue;
      }
      const out = w.file(name);
      if (!out) continue;
      try {
        for await (const c of await zip.openReadStreamPromise(entry)) out.write(c as Buffer);
      } finally {
        out.close();
      }
      progress?.update(done);
    }
  } catch (e) {
    zip.close();
    if (e instanceof UserError) throw e;
    throw new UserError(`${archive}: damaged zip archive (${(e as Error).message})`);
  }
}

/** Unpacks `archive` (tar, tar.gz or zip, recognised by content) into `o.dest` through `o.map`. */
export async function extractArchive(archive: string, o: ExtractOptions): Promise<ExtractResult> {
  const kind = archiveKind(archive);
  if (kind === null) throw new UserError(`${archive}: not a .tar, .tar.gz/.tgz or .zip archive`);
  const w = new Writer(archive, o.dest, o.map, o.signal);
  const progress = o.progress ? new TransferProgress(`unpacking ${path.basename(archive)}`, fs.statSync(archive).size, 0, o.progress) : null;
  try {
    await (kind === 'zip' ? extractZip(archive, w, progress) : extractTar(archive, w, progress));
  } catch (e) {
    progress?.interrupt();
    throw e;
  }
  progress?.finish();
  return w.result;
}

/** A map from prefix rules: the first rule whose `from` is the member or a folder prefix of it wins. */
export function prefixMap(rules: ReadonlyArray<{ from: string; to: string }>): MemberMap {
  return (member) => {
    for (const r of rules) {
      if (r.from.endsWith('/') ? member.startsWith(r.from) : member === r.from) return r.to + member.slice(r.from.length);
    }
    return null;
  };
}
