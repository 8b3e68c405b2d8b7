// Port of: main.py / auxiliaries.py checkpoint saving (`checkpoint_Class.pth.tar`) (docs/porting.md#checkpoints)
/**
 * Checkpoint folders, written atomically. A checkpoint `<dir>/` holds
 *   model.safetensors  model weights, torchvision names and PyTorch layout (loadable by PyTorch users)
 *   state.safetensors  everything else that is a tensor: optimizer moments, β, proxies, projection net…
 *   state.json         {"format": "mic-train-checkpoint", "version": 1, "state": <JSON-able run state>}
 *
 * Writing: everything goes into `<dir>.tmp-<pid>/` and is fsynced; then `<dir>` → `<dir>.old`,
 * `<dir>.tmp-<pid>` → `<dir>`, and `<dir>.old` is removed. A crash at any point leaves either `<dir>` or
 * `<dir>.old` complete, and `loadCheckpoint` falls back to `<dir>.old` when `<dir>` is missing.
 *
 * Porting note: the original saved only the network weights with torch.save (`.pth.tar`); we save all
 * that an exact resume needs, in formats readable without Python pickles (docs/porting.md#checkpoints).
 */
import nodeFs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { ERRNO_WORDS } from '../system-errors.ts';
import { readUserFile } from './safe-read.ts';
import { parseSafetensors, serializeSafetensors, type TensorMap } from './safetensors.ts';

/** A tensor as stored: row-major data and its shape. */
export interface CheckpointTensor {
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface CheckpointContents<S extends object = Record<string, unknown>> {
  /** Model weights keyed by torchvision names (`layer1.0.conv1.weight`), PyTorch layout (OIHW, [out,in]). */
  tensors: Map<string, CheckpointTensor>;
  /** Other tensors (e.g. `optimizer.m.<var>`, `loss.Class.beta`, `projection.0.weight`). */
  extraTensors: Map<string, CheckpointTensor>;
  /** Everything else, JSON-able (epoch, RNG states, schedule, cluster labels, history…): `train/run-state.ts`. */
  state: S;
}

/** The file-system calls the checkpoint code makes; tests inject failures through this. */
export type CheckpointFs = Pick<
  typeof nodeFs,
  'mkdirSync' | 'rmSync' | 'openSync' | 'writeSync' | 'fsyncSync' | 'closeSync' | 'renameSync' | 'existsSync' | 'readFileSync' | 'readdirSync'
>;

/** Points between the atomic steps where a test can simulate a crash (a throwing hook leaves things as a kill would). */
export type CheckpointStage = 'written' | 'old-moved' | 'renamed';

export interface SaveOptions {
  fs?: CheckpointFs;
  /** Called after each stage; for tests that interrupt the writer. */
  onStage?: (stage: CheckpointStage) => void;
  /** Extra string metadata for model.safetensors (`format: pt` is always set). */
  metadata?: Record<string, string>;
}

const FORMAT = 'mic-train-checkpoint';
const VERSION = 1;
export const CHECKPOINT_FILES = { model: 'model.safetensors', extra: 'state.safetensors', state: 'state.json' } as const;

/** Folder name of the best-R@1 checkpoint: `checkpoint_Class`, or `checkpoint_set<n>` per VehicleID test set (1-based). */
export function bestCheckpointName(set?: number): string {
  return set === undefined ? 'checkpoint_Class' : `checkpoint_set${set}`;
}

function describeFsError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const code = err?.code;
  return code ? `${ERRNO_WORDS[code] ?? err.message} (${code})` : String((e as Error)?.message ?? e);
}

function toTensorMap(m: Map<string, CheckpointTensor>): TensorMap {
  const out: TensorMap = new Map();
  for (const [name, t] of m) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`checkpoint tensor '${name}': shape [${t.shape}] needs ${count} values, has ${t.data.length}`);
    out.set(name, { dtype: t.data instanceof Int32Array ? 'int32' : 'float32', shape: [...t.shape], data: t.data });
  }
  return out;
}

function writeFileDurable(fs: CheckpointFs, file: string, data: Uint8Array): void {
  const fd = fs.openSync(file, 'w');
  try {
    for (let off = 0; off < data.byteLength;) off += fs.writeSync(fd, data, off, data.byteLength - off);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** fsync a directory so renames inside it are durable; not supported everywhere (Windows), so best effort. */
function syncDir(fs: CheckpointFs, dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // A platform without directory fsync still gets the rename's own atomicity.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Whether process `pid` is running (EPERM: it is, under another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove `<dir>.tmp-<pid>` folders left by killed writers (and our own). */
function removeStaleTemps(fs: CheckpointFs, dir: string): void {
  const parent = path.dirname(dir);
  const prefix = `${path.basename(dir)}.tmp-`;
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return;
  }
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    const pid = Number(n.slice(prefix.length));
    if (Number.isInteger(pid) && (pid === process.pid || !pidAlive(pid))) fs.rmSync(path.join(parent, n), { recursive: true, force: true });
  }
}

/**
 * Write a checkpoint to `dir` atomically (see the file comment). A write error (disk full, permissions)
 * removes the temporary folder, leaves any previous checkpoint untouched and throws a UserError naming
 * `dir` and the cause.
 */
export function saveCheckpoint(dir: string, contents: CheckpointContents<object>, opts: SaveOptions = {}): void {
  const fs = opts.fs ?? nodeFs;
  const target = path.resolve(dir);
  const tmp = `${target}.tmp-${process.pid}`;
  const old = `${target}.old`;
  // Serialise first: a bad tensor is a bug and must not touch the disk.
  const model = serializeSafetensors(toTensorMap(contents.tensors), { format: 'pt', ...opts.metadata });
  const extra = serializeSafetensors(toTensorMap(contents.extraTensors), { format: 'pt' });
  const json = Buffer.from(JSON.stringify({ format: FORMAT, version: VERSION, state: contents.state }) + '\n', 'utf8');
  const fail = (e: unknown): never => {
    throw new UserError(`cannot write checkpoint '${target}': ${describeFsError(e)}; the previous checkpoint, if any, is unchanged`);
  };
  try {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    removeStaleTemps(fs, target);
    fs.mkdirSync(tmp);
    writeFileDurable(fs, path.join(tmp, CHECKPOINT_FILES.model), model);
    writeFileDurable(fs, path.join(tmp, CHECKPOINT_FILES.extra), extra);
    writeFileDurable(fs, path.join(tmp, CHECKPOINT_FILES.state), json);
    syncDir(fs, tmp);
  } catch (e) {
    try {
      fs.rmSync(tmp, { recursive: true, force: true });
    } catch {
      // Nothing more to do; the stale folder is removed by the next save.
    }
    fail(e);
  }
  opts.onStage?.('written');
  try {
    if (fs.existsSync(target)) {
      // A leftover `.old` next to a complete `<dir>` is older than it: drop it first.
      fs.rmSync(old, { recursive: true, force: true });
      fs.renameSync(target, old);
    }
  } catch (e) {
    fail(e);
  }
  opts.onStage?.('old-moved');
  try {
    fs.renameSync(tmp, target);
    syncDir(fs, path.dirname(target));
  } catch (e) {
    fail(e);
  }
  opts.onStage?.('renamed');
  try {
    fs.rmSync(old, { recursive: true, force: true });
  } catch {
    // The new checkpoint is in place; a stale `.old` is removed by the next save.
  }
}

/** The folder a load would read: `<dir>`, else `<dir>.old` (a save interrupted between its renames), else undefined. */
export function findCheckpoint(dir: string, fs: Pick<CheckpointFs, 'existsSync'> = nodeFs): string | undefined {
  const target = path.resolve(dir);
  if (fs.existsSync(path.join(target, CHECKPOINT_FILES.state))) return target;
  if (fs.existsSync(path.join(`${target}.old`, CHECKPOINT_FILES.state))) return `${target}.old`;
  return undefined;
}

/** Read a checkpoint written by `saveCheckpoint`. Every problem is a UserError naming the file. */
export function loadCheckpoint(dir: string, opts: { fs?: CheckpointFs } = {}): CheckpointContents & { path: string } {
  const fs = opts.fs ?? nodeFs;
  const found = findCheckpoint(dir, fs);
  if (!found) {
    throw new UserError(`no checkpoint at '${path.resolve(dir)}' (expected a folder with ${Object.values(CHECKPOINT_FILES).join(', ')})`);
  }
  const read = (name: string): Buffer => {
    const file = path.join(found, name);
    // The real file system: only regular files within the size cap (an injected one is a test's fake).
    if (fs === nodeFs) return readUserFile(file, name === CHECKPOINT_FILES.state ? 'config' : 'weights', 'checkpoint file');
    try {
      return fs.readFileSync(file);
    } catch (e) {
      throw new UserError(`checkpoint file '${file}' cannot be read: ${describeFsError(e)}`);
    }
  };
  const stateFile = path.join(found, CHECKPOINT_FILES.state);
  let parsed: { format?: unknown; version?: unknown; state?: unknown };
  try {
    parsed = JSON.parse(read(CHECKPOINT_FILES.state).toString('utf8'));
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`checkpoint file '${stateFile}' is not valid JSON (${(e as Error).message})`);
  }
  if (parsed?.format !== FORMAT || typeof parsed.state !== 'object' || parsed.state === null) {
    throw new UserError(`'${stateFile}' is not a mic-train checkpoint state (expected "format": "${FORMAT}")`);
  }
  if (parsed.version !== VERSION) {
    throw new UserError(`'${stateFile}' has checkpoint version ${String(parsed.version)}; this mic-train reads version ${VERSION}`);
  }
  const tensorsOf = (name: string) => {
    const { tensors } = parseSafetensors(read(name), path.join(found, name));
    return new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data }]));
  };
  return {
    path: found,
    tensors: tensorsOf(CHECKPOINT_FILES.model),
    extraTensors: tensorsOf(CHECKPOINT_FILES.extra),
    state: parsed.state as Record<string, unknown>,
  };
}
