/**
 * `mic-train prepare cub200|online_products --from DIR`: the archive the sources table names (CUB_200_2011.tgz,
 * Stanford_Online_Products.zip), fetched by hand or copied from elsewhere, checked against the table's size and
 * sha256 (unless --no-verify) and unpacked exactly as `download` would.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.ts';
import { sha256File } from '../../io/download.ts';
import { loadSources, sourceItem } from '../../io/sources.ts';
import { TransferProgress } from '../../io/transfer-progress.ts';
import { installFromArchive } from './download-dataset.ts';
import { findIn, requireFromDir, type PrepareOptions } from './inputs.ts';

export async function prepareFromTable(dataset: string, from: string, o: PrepareOptions): Promise<string> {
  const dir = requireFromDir(from);
  const item = sourceItem(loadSources(o.env), dataset);
  if (!item.file) throw new UserError(`${dataset}: the sources table has no archive for it`);
  const name = path.basename(item.file.name.split(' ')[0]);
  const archive = findIn(dir, [name], 'file');
  if (!archive) throw new UserError(`--from ${from}: ${name} not found`);
  if (!o.noVerify) {
    const size = fs.statSync(archive).size;
    if (size !== item.file.size)
      throw new UserError(`${archive}: ${size} bytes, but ${name} has ${item.file.size} (incomplete or a different file; --no-verify accepts it)`);
    if (item.file.sha256) {
      const got = await sha256File(archive, new TransferProgress(`checking ${name}`, size, 0, o.progress));
      if (got !== item.file.sha256)
        throw new UserError(`${archive}: sha256 ${got}, expected ${item.file.sha256} (a different or damaged file; --no-verify accepts it)`);
    }
  }
  return installFromArchive(item, archive, o);
}
