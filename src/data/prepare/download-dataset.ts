/**
 * `mic-train download <dataset>`: the archive named in the sources table is downloaded (verified, resumable)
 * into the cache, unpacked in-process through the table's unpack rules into a staging folder, checked with the
 * dataset's loader and renamed into `<source_path>/<dataset>`. A dataset already in place is verified and left
 * alone. The archive stays in the cache, so the dataset can be rebuilt without the network.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.ts';
import { extractArchive, prefixMap } from '../../io/archive.ts';
import { downloadFile, ensureFreeSpace, type DownloadOptions } from '../../io/download.ts';
import { cacheDir, manualSteps, type SourceItem } from '../../io/sources.ts';
import { formatBytes } from '../../io/transfer-progress.ts';
import { installDataset, verifyInstalled } from './install.ts';

export interface FetchDatasetOptions extends DownloadOptions {
  /** Parent of the dataset folders (`--source_path`). */
  sourcePath: string;
  env?: NodeJS.ProcessEnv;
  /** Accept a table entry without a sha256. */
  noVerify?: boolean;
}

/** Unpacks a verified archive of `item` into `<sourcePath>/<item.key>` (staged, checked, renamed). */
export async function installFromArchive(
  item: SourceItem,
  archive: string,
  o: Pick<FetchDatasetOptions, 'sourcePath' | 'log' | 'progress' | 'signal'>,
): Promise<string> {
  const file = item.file!;
  // Images do not compress: the unpacked dataset takes about as much room as its archive.
  ensureFreeSpace(o.sourcePath, fs.statSync(archive).size, `unpacking ${path.basename(archive)}`);
  const origin = { item: item.key, archive: file.name, sha256: file.sha256 };
  const { root } = await installDataset(
    item.key,
    o.sourcePath,
    origin,
    async (staging) => {
      const r = await extractArchive(archive, { dest: staging, map: prefixMap(item.unpack ?? []), progress: o.progress ?? {}, signal: o.signal });
      o.log?.(
        `${item.key}: unpacked ${r.files} files (${formatBytes(r.bytes)}) from ${path.basename(archive)}; ${r.skipped} archive members not needed`,
      );
    },
    o.log,
  );
  return root;
}

/** Where the archive of `item` is cached (the sha256 prefix keeps different tables' files apart). */
export function cachedArchivePath(item: SourceItem, env?: NodeJS.ProcessEnv): string {
  const file = item.file!;
  const base = path.basename(file.name.split(' ')[0]);
  return path.join(cacheDir(env), 'downloads', file.sha256 ? `${file.sha256.slice(0, 12)}-${base}` : base);
}

export async function fetchDataset(item: SourceItem, o: FetchDatasetOptions): Promise<{ root: string; outcome: 'present' | 'installed' }> {
  const root = path.resolve(o.sourcePath, item.key);
  if (!item.file) {
    const present = verifyInstalled(item.key, o.sourcePath);
    if (present) return { root, outcome: 'present' };
    throw new UserError(`${item.key}: no automatic download; ${manualSteps(item)}`);
  }
  if (item.file.sha256 === null && !o.noVerify) {
    throw new UserError(`${item.key}: the sources table gives no sha256 for ${item.file.name}; pass --no-verify to download it unverified`);
  }
  const present = verifyInstalled(item.key, o.sourcePath);
  if (present) {
    o.log?.(present);
    return { root, outcome: 'present' };
  }
  const archive = cachedArchivePath(item, o.env);
  await downloadFile(item.file, archive, o);
  await installFromArchive(item, archive, o);
  o.log?.(`${item.key}: the archive stays in ${archive} (${formatBytes(item.file.size)}); delete it to free the space`);
  return { root, outcome: 'installed' };
}
