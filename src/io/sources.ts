/**
 * The sources table: where every downloadable item (ImageNet weights per `--arch`, public datasets) comes from,
 * with byte size, sha256 and where each checksum was published — as data, in `sources.json` beside this file.
 * `MIC_TRAIN_SOURCES=FILE` replaces it (mirrors, air-gapped sites, tests). Items without a verified automatic
 * route carry the manual steps instead. Also: the download cache folder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.ts';
import type { RemoteFile } from './download.ts';

export const DEFAULT_SOURCES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'sources.json');

export interface SourceFile extends RemoteFile {
  /** Where the size and checksum were published (shown by `download --help`, kept for reviewers). */
  checksumSource: string;
}

export interface UnpackRule {
  /** Archive path: a folder prefix ending in '/', or one member. */
  from: string;
  /** Path under the dataset folder it maps to ('' = the dataset folder itself). */
  to: string;
}

export interface SourceItem {
  key: string;
  kind: 'weights' | 'dataset';
  title: string;
  license: string;
  /** Where it lands, e.g. `weights/resnet50.safetensors` or `Datasets/cub200/` (documentation; the code derives the place). */
  landsIn: string;
  /** Weights: the `--arch` they serve. */
  arch?: string;
  /** The file to fetch; absent for manual items. */
  file?: SourceFile;
  /** Datasets with a file: archive members → dataset folder. */
  unpack?: UnpackRule[];
  /** The steps when there is no automatic route. */
  manual?: string[];
}

export interface SourcesTable {
  /** The file it was read from. */
  path: string;
  items: Map<string, SourceItem>;
}

type Json = Record<string, unknown>;

function check(cond: unknown, file: string, key: string, what: string): asserts cond {
  if (!cond) throw new UserError(`${file}: item '${key}': ${what}`);
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

function parseFile(raw: unknown, file: string, key: string): SourceFile {
  check(raw && typeof raw === 'object', file, key, '"file" must be an object');
  const f = raw as Json;
  check(isString(f.name), file, key, 'file.name must be a non-empty string');
  check(Array.isArray(f.urls) && f.urls.length > 0 && f.urls.every(isString), file, key, 'file.urls must be a non-empty list of URLs');
  for (const u of f.urls as string[]) check(/^(https?|file):\/\//.test(u), file, key, `URL '${u}' is not http://, https:// or file://`);
  check(Number.isSafeInteger(f.size) && (f.size as number) > 0, file, key, 'file.size must be a positive whole number of bytes');
  check(
    f.sha256 === null || (typeof f.sha256 === 'string' && /^[0-9a-f]{64}$/.test(f.sha256)),
    file,
    key,
    'file.sha256 must be 64 lower-case hex digits, or null (unverified)',
  );
  check(isString(f.checksum_source) || f.sha256 === null, file, key, 'file.checksum_source must say where the checksum was published');
  return {
    name: f.name,
    urls: f.urls as string[],
    size: f.size as number,
    sha256: f.sha256 as string | null,
    checksumSource: String(f.checksum_source ?? ''),
  };
}

function parseItem(key: string, raw: unknown, file: string): SourceItem {
  check(raw && typeof raw === 'object', file, key, 'must be an object');
  const r = raw as Json;
  check(r.kind === 'weights' || r.kind === 'dataset', file, key, 'kind must be "weights" or "dataset"');
  for (const field of ['title', 'license', 'lands_in'] as const) check(isString(r[field]), file, key, `${field} must be a non-empty string`);
  check((r.file === undefined) !== (r.manual === undefined), file, key, 'give exactly one of "file" (automatic) and "manual" (steps)');
  const item: SourceItem = { key, kind: r.kind, title: r.title as string, license: r.license as string, landsIn: r.lands_in as string };
  if (r.kind === 'weights') {
    check(isString(r.arch), file, key, 'weights items name the --arch they serve ("arch")');
    item.arch = r.arch as string;
  }
  if (r.manual !== undefined) {
    check(Array.isArray(r.manual) && r.manual.length > 0 && r.manual.every(isString), file, key, 'manual must be a non-empty list of steps');
    item.manual = r.manual as string[];
    return item;
  }
  item.file = parseFile(r.file, file, key);
  if (r.kind === 'dataset') {
    const rules = r.unpack;
    check(Array.isArray(rules) && rules.length > 0, file, key, 'datasets with a file need "unpack" rules');
    item.unpack = (rules as unknown[]).map((u) => {
      const rule = u as Json;
      check(rule && isString(rule.from) && typeof rule.to === 'string', file, key, 'each unpack rule is {"from": "...", "to": "..."}');
      return { from: rule.from as string, to: rule.to as string };
    });
  }
  return item;
}

/** Reads and checks a sources table file. */
export function readSources(file: string): SourcesTable {
  let json: Json;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new UserError(`${file}: cannot read the sources table (${why})`);
  }
  if (!json || typeof json.items !== 'object' || json.items === null) throw new UserError(`${file}: a sources table needs an "items" object`);
  const items = new Map<string, SourceItem>();
  for (const [key, raw] of Object.entries(json.items as Json)) items.set(key, parseItem(key, raw, file));
  return { path: file, items };
}

/** The table in effect: `$MIC_TRAIN_SOURCES`, else the one shipped with mic-train. */
export function loadSources(env: NodeJS.ProcessEnv = process.env): SourcesTable {
  return readSources(env.MIC_TRAIN_SOURCES ? path.resolve(env.MIC_TRAIN_SOURCES) : DEFAULT_SOURCES);
}

/** The item called `key`, or a UserError listing the known ones. */
export function sourceItem(table: SourcesTable, key: string): SourceItem {
  const item = table.items.get(key);
  if (!item) throw new UserError(`unknown item '${key}'; ${table.path} lists: ${[...table.items.keys()].join(', ')}`);
  return item;
}

/** The weights item serving `--arch arch`, if the table has one. */
export function weightsItemFor(table: SourcesTable, arch: string): SourceItem | undefined {
  return [...table.items.values()].find((i) => i.kind === 'weights' && i.arch === arch);
}

/** Download cache: `$MIC_TRAIN_CACHE`, else `$XDG_CACHE_HOME/mic-train`, else `~/.cache/mic-train`. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MIC_TRAIN_CACHE) return path.resolve(env.MIC_TRAIN_CACHE);
  if (env.XDG_CACHE_HOME) return path.join(path.resolve(env.XDG_CACHE_HOME), 'mic-train');
  return path.join(os.homedir(), '.cache', 'mic-train');
}

/** Whether `MIC_TRAIN_OFFLINE` forbids network access (1, true, yes). */
export function offlineByEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes)$/i.test(env.MIC_TRAIN_OFFLINE ?? '');
}

/** The manual steps of an item as one line. */
export function manualSteps(item: SourceItem): string {
  return (item.manual ?? []).join('; ');
}
