/** `mic-train download <item>…`: ImageNet weights and public datasets from the sources table, verified and resumable. */
import path from 'node:path';
import { fetchDataset } from '../data/prepare/download-dataset.ts';
import { verifyInstalled } from '../data/prepare/install.ts';
import { UserError } from '../errors.ts';
import { withInterruptSignal } from '../io/download.ts';
import { cacheDir, loadSources, manualSteps, offlineByEnv, sourceItem, type SourceItem, type SourcesTable } from '../io/sources.ts';
import { formatBytes } from '../io/transfer-progress.ts';
import { fetchWeights } from '../models/fetch-weights.ts';
import { defaultWeightDirs, locateDefaultWeights } from '../models/build-model.ts';
import { archSpec } from '../models/registry.ts';
import { commandParser, logToStderr, positionals } from './common.ts';

export interface DownloadArgs {
  items: string[];
  sourcePath: string;
  noVerify: boolean;
}

/** One line per item of the table, for --help. */
export function itemsHelp(table: SourcesTable): string {
  const rows = [...table.items.values()].map((i) => {
    const size = i.file ? formatBytes(i.file.size) : 'manual';
    return `- ${i.key} (${i.kind}, ${size}) → ${i.landsIn}: ${i.title}`;
  });
  return [`Items (${table.path}):`, ...rows].join('\n');
}

export function parseDownloadArgs(argv: string[], table: SourcesTable): DownloadArgs {
  const usage =
    'Usage: mic-train download <item>… [--source_path DIR]\n\n' +
    'Fetch ImageNet weights and public datasets: verified by sha256 before they are put in place, resumable after an ' +
    'interruption (run the same command again), unpacked in-process into the layout training reads. A second call ' +
    'verifies and does nothing.';
  const epilog =
    `${itemsHelp(table)}\n\n` +
    'Weights land in $MIC_WEIGHTS_DIR (default <mic-train>/weights), datasets in --source_path/<item>. Environment: ' +
    `MIC_TRAIN_SOURCES=FILE replaces the sources table; MIC_TRAIN_CACHE holds downloaded archives (now ${cacheDir()}); ` +
    'HTTPS_PROXY / HTTP_PROXY / NO_PROXY are honoured; MIC_TRAIN_OFFLINE=1 forbids downloads.';
  const a = commandParser(argv, usage)
    .epilog(epilog)
    .option('source_path', { type: 'string', default: 'Datasets', describe: 'parent folder of the dataset folders (as in training)' })
    .option('no-verify', { type: 'boolean', default: false, describe: 'accept items whose sources table entry has no sha256' })
    .parseSync() as Record<string, unknown>;
  const items = positionals(a);
  if (items.length === 0) throw new UserError(`download: name at least one item: ${[...table.items.keys()].join(', ')} (see --help)`);
  for (const key of items) sourceItem(table, key);
  return { items: [...new Set(items)], sourcePath: String(a.source_path), noVerify: Boolean(a['no-verify']) };
}

/** Manual items must already be in place; checked before anything is fetched. */
async function checkManualItems(items: SourceItem[], sourcePath: string): Promise<void> {
  for (const item of items) {
    if (item.file) continue;
    const present =
      item.kind === 'dataset'
        ? verifyInstalled(item.key, sourcePath) !== null
        : locateDefaultWeights(await archSpec(item.arch ?? ''), 'torchvision', defaultWeightDirs()) !== null;
    if (!present) throw new UserError(`${item.key}: no automatic download; ${manualSteps(item)}`);
  }
}

export async function runDownload(a: DownloadArgs, table: SourcesTable): Promise<void> {
  if (offlineByEnv()) throw new UserError('download: MIC_TRAIN_OFFLINE forbids network access; unset it to download');
  const items = a.items.map((k) => sourceItem(table, k));
  await checkManualItems(items, a.sourcePath);
  await withInterruptSignal(async (signal) => {
    for (const item of items) {
      const o = { log: logToStderr, signal, noVerify: a.noVerify };
      if (item.kind === 'weights') {
        const r = item.file
          ? await fetchWeights(item, o)
          : { path: locateDefaultWeights(await archSpec(item.arch ?? ''), 'torchvision', defaultWeightDirs())!, outcome: 'present' };
        process.stdout.write(
          `${item.key}: ${r.path} (${r.outcome === 'present' ? 'already there' : 'downloaded'}${item.file ? ', sha256 verified' : ''})\n`,
        );
      } else {
        const r = await fetchDataset(item, { ...o, sourcePath: a.sourcePath });
        process.stdout.write(`${item.key}: ${path.resolve(r.root)} (${r.outcome === 'present' ? 'already there' : 'installed'}, layout checked)\n`);
      }
    }
  });
}

export async function run(argv: string[]): Promise<number> {
  const table = loadSources();
  await runDownload(parseDownloadArgs(argv, table), table);
  return 0;
}
