/**
 * Verified, resumable downloads. A file streams into `<dest>.part` while its sha256 is computed; an
 * interruption (dropped connection, Ctrl-C, a killed process) leaves the `.part` file, and the next attempt —
 * in the same call after a drop, or the next call — asks for the rest with an HTTP Range request. Only when the
 * size and sha256 match is the file renamed to `dest` (atomically, same folder); a mismatch deletes the partial
 * file. Nothing is created before a server answers with the file, so an unreachable host leaves no trace.
 * Sources may be http(s):// URLs (proxies: see http.ts) or file:// URLs (mirrors on a shared disk).
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.ts';
import { httpGet, HttpError, type HttpGetOptions } from './http.ts';
import { formatBytes, TransferProgress, type TransferProgressOptions } from './transfer-progress.ts';

export interface RemoteFile {
  /** File name at the source, used in messages. */
  name: string;
  /** Tried in order; the first that delivers the file wins. */
  urls: string[];
  size: number;
  /** Lower-case hex; null only when the caller accepted an unverified download. */
  sha256: string | null;
}

export interface DownloadOptions {
  log?: (line: string) => void;
  progress?: TransferProgressOptions;
  /** Proxy environment, trusted certificates, timeouts. */
  http?: Omit<HttpGetOptions, 'headers' | 'signal'>;
  /** Attempts in a row on one URL that bring no new byte before the next URL is tried; default 3. */
  maxStalls?: number;
  /** Wait before a retry, doubled after each attempt without progress; default 1000 ms. */
  retryDelayMs?: number;
  /** Aborting keeps the `.part` file and throws a UserError (exit code 130) that says how to resume. */
  signal?: AbortSignal;
}

export type DownloadOutcome = 'present' | 'downloaded';

/** State of the partial file: bytes on disk, their running hash and an open descriptor (opened lazily). */
interface Part {
  path: string;
  offset: number;
  hash: Hash;
  fd: number | null;
}

/** sha256 of a file, hex. */
export async function sha256File(file: string, progress?: TransferProgress): Promise<string> {
  const hash = createHash('sha256');
  let n = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    n += (chunk as Buffer).length;
    progress?.update(n);
  }
  return hash.digest('hex');
}

/**
 * Throws a UserError unless the file system holding `dir` (or its nearest existing parent) has `bytes` free, so a
 * multi-gigabyte download or unpacking fails at once instead of at 97 %.
 */
export function ensureFreeSpace(dir: string, bytes: number, what: string): void {
  let d = path.resolve(dir);
  while (!fs.existsSync(d) && path.dirname(d) !== d) d = path.dirname(d);
  let free: number;
  try {
    const st = fs.statfsSync(d);
    free = st.bavail * st.bsize;
  } catch {
    return; // statfs unsupported here: let the writes themselves fail
  }
  if (free < bytes) throw new UserError(`${what} needs ${formatBytes(bytes)} in ${d}, which has ${formatBytes(free)} free`);
}

function retryable(e: unknown): boolean {
  return e instanceof HttpError ? e.retryable : !(e instanceof UserError);
}

/** Starts the partial file over (the server ignored a Range request, or the part was not a prefix). */
function restart(part: Part): void {
  if (part.fd !== null) fs.ftruncateSync(part.fd, 0);
  part.offset = 0;
  part.hash = createHash('sha256');
}

/** The response body for `url` from `part.offset` on, after checking the server agrees on the size. */
async function openSource(url: string, file: RemoteFile, part: Part, o: DownloadOptions, progress: TransferProgress): Promise<Readable> {
  if (url.startsWith('file:')) {
    const p = fileURLToPath(url);
    let size: number;
    try {
      size = fs.statSync(p).size;
    } catch (e) {
      throw new HttpError(`${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, undefined, false);
    }
    if (size !== file.size) throw new HttpError(`${p} has ${size} bytes, the sources table says ${file.size}`, undefined, false);
    return fs.createReadStream(p, { start: part.offset, signal: o.signal });
  }
  const headers: Record<string, string> = part.offset > 0 ? { range: `bytes=${part.offset}-` } : {};
  const res = await httpGet(url, { ...o.http, headers, signal: o.signal });
  const { status } = res;
  if (status === 416 && part.offset > 0) {
    res.body.resume();
    restart(part);
    progress.restart(0);
    throw new HttpError('the server refused to resume (HTTP 416); starting over', 416, true);
  }
  if (status !== 200 && status !== 206) {
    res.body.resume();
    throw new HttpError(`HTTP ${status}${res.body.statusMessage ? ` ${res.body.statusMessage}` : ''}`, status, status >= 500 || status === 429);
  }
  let total = Number(res.headers['content-length'] ?? NaN);
  if (status === 206) {
    const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
    if (!m || Number(m[1]) !== part.offset) {
      res.body.destroy();
      restart(part);
      progress.restart(0);
      throw new HttpError(
        `the server resumed at an unexpected place (${res.headers['content-range'] ?? 'no Content-Range'}); starting over`,
        206,
        true,
      );
    }
    total = m[2] === '*' ? NaN : Number(m[2]);
  } else if (part.offset > 0) {
    // A 200 answer to a Range request is the whole file: start the partial file over.
    restart(part);
    progress.restart(0);
  }
  if (Number.isFinite(total) && total !== file.size) {
    res.body.destroy();
    throw new HttpError(`the server offers ${total} bytes, the sources table says ${file.size} (a different file?)`, status, false);
  }
  return res.body;
}

/** One attempt: appends what `url` sends to the partial file. */
async function attempt(url: string, file: RemoteFile, part: Part, o: DownloadOptions, progress: TransferProgress): Promise<void> {
  const body = await openSource(url, file, part, o, progress);
  if (part.fd === null) {
    fs.mkdirSync(path.dirname(part.path), { recursive: true });
    part.fd = fs.openSync(part.path, 'a');
    if (part.offset === 0) fs.ftruncateSync(part.fd, 0);
  }
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      if (part.offset + buf.length > file.size)
        throw new HttpError(`the server sends more than the ${file.size} bytes the sources table says`, undefined, false);
      fs.writeSync(part.fd, buf);
      part.hash.update(buf);
      part.offset += buf.length;
      progress.update(part.offset);
    }
  } catch (e) {
    if (e instanceof HttpError || (e as Error).name === 'AbortError') throw e;
    throw new HttpError(
      `the connection broke after ${formatBytes(part.offset)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      undefined,
      true,
    );
  } finally {
    body.destroy();
  }
  if (part.offset < file.size)
    throw new HttpError(`the connection closed after ${formatBytes(part.offset)} of ${formatBytes(file.size)}`, undefined, true);
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/** Fetches the missing bytes of `part` from the URLs in turn, retrying dropped connections with Range requests. */
async function fetchRest(file: RemoteFile, part: Part, o: DownloadOptions): Promise<void> {
  const log = o.log ?? (() => {});
  const maxStalls = o.maxStalls ?? 3;
  const progress = new TransferProgress(file.name, file.size, part.offset, o.progress);
  const failures: string[] = [];
  try {
    for (const url of file.urls) {
      let stalls = 0;
      let last = '';
      while (stalls < maxStalls) {
        const before = part.offset;
        log(`${file.name}: ${before > 0 ? `resuming at ${formatBytes(before)} of` : 'downloading'} ${formatBytes(file.size)} from ${url}`);
        try {
          await attempt(url, file, part, o, progress);
          progress.finish();
          return;
        } catch (e) {
          if (o.signal?.aborted) throw e;
          progress.interrupt();
          last = (e as Error).message;
          if (!retryable(e)) break;
          stalls = part.offset > before ? 0 : stalls + 1;
          if (stalls < maxStalls) {
            log(`${file.name}: ${last}; retrying`);
            await sleep((o.retryDelayMs ?? 1000) * 2 ** Math.max(0, stalls - 1), o.signal);
          }
        }
      }
      failures.push(`${url}: ${last}`);
    }
  } catch (e) {
    if (!o.signal?.aborted) throw e;
    progress.interrupt();
    throw new UserError(
      `interrupted: ${formatBytes(part.offset)} of ${formatBytes(file.size)} kept in ${part.path}; run the same command again to resume`,
      130,
    );
  }
  const kept = part.offset > 0 ? `; ${formatBytes(part.offset)} kept in ${part.path}, run again to resume` : '';
  throw new UserError(`${file.name}: download failed (${failures.join('; ')})${kept}`);
}

/** Checks a file already at `dest` against the table: size, then sha256. */
async function verifyExisting(file: RemoteFile, dest: string): Promise<void> {
  const size = fs.statSync(dest).size;
  const leave = 'it was left untouched; move it away to download the file again';
  if (size !== file.size) throw new UserError(`${dest} exists but has ${size} bytes, not the ${file.size} of ${file.name}; ${leave}`);
  if (file.sha256 === null) return;
  const got = await sha256File(dest);
  if (got !== file.sha256) throw new UserError(`${dest} exists but its sha256 is ${got}, not ${file.sha256} (${file.name}); ${leave}`);
}

/**
 * Makes `dest` hold `file`: 'present' when it already does (size and sha256 checked), else downloads it
 * (resuming `<dest>.part`) and returns 'downloaded'. Throws a one-line UserError on failure.
 */
export async function downloadFile(file: RemoteFile, dest: string, o: DownloadOptions = {}): Promise<DownloadOutcome> {
  if (fs.existsSync(dest)) {
    await verifyExisting(file, dest);
    return 'present';
  }
  const part: Part = { path: `${dest}.part`, offset: 0, hash: createHash('sha256'), fd: null };
  if (fs.existsSync(part.path)) {
    const size = fs.statSync(part.path).size;
    if (size > file.size) fs.rmSync(part.path);
    else if (size > 0) {
      for await (const chunk of fs.createReadStream(part.path, { highWaterMark: 1 << 20 })) part.hash.update(chunk as Buffer);
      part.offset = size;
    }
  }
  if (part.offset < file.size) ensureFreeSpace(path.dirname(dest), file.size - part.offset, `downloading ${file.name}`);
  try {
    if (part.offset < file.size) await fetchRest(file, part, o);
    if (part.fd !== null) fs.fsyncSync(part.fd);
  } finally {
    if (part.fd !== null) fs.closeSync(part.fd);
  }
  const got = part.hash.digest('hex');
  if (file.sha256 !== null && got !== file.sha256) {
    fs.rmSync(part.path, { force: true });
    throw new UserError(`${file.name}: sha256 mismatch (got ${got}, expected ${file.sha256}); the downloaded file was deleted`);
  }
  fs.renameSync(part.path, dest);
  return 'downloaded';
}

/**
 * An AbortSignal that fires on the first Ctrl-C (SIGINT) or SIGTERM while `fn` runs; the handlers are removed
 * afterwards, so training's own Ctrl-C handling is unaffected.
 */
export async function withInterruptSignal<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await fn(ac.signal);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
