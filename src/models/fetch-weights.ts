/**
 * ImageNet weights from the sources table (src/io/sources.json): `fetchWeights` for `mic-train download`,
 * `resolvePretrainedWeights` for training — a local file when there is one, else an automatic download into
 * the weights folder (the first of `$MIC_WEIGHTS_DIR`, `<repo>/weights`), unless the run is offline. Files land
 * under the name `buildModel` looks for, so the next run finds them without the network.
 */
import path from 'node:path';
import { UserError } from '../errors.ts';
import { downloadFile, type DownloadOptions, type DownloadOutcome } from '../io/download.ts';
import { loadSources, manualSteps, weightsItemFor, type SourceItem } from '../io/sources.ts';
import { formatBytes } from '../io/transfer-progress.ts';
import type { PretrainedFormat } from '../io/weights.ts';
import { defaultWeightDirs, locateDefaultWeights, missingWeightsMessage, weightSource } from './build-model.ts';
import { archSpec } from './registry.ts';

export interface FetchWeightsOptions extends DownloadOptions {
  /** Folders searched for weights; downloads go to the first. Default: defaultWeightDirs(). */
  weightDirs?: string[];
  /** Accept a table entry without a sha256. */
  noVerify?: boolean;
}

/** Where `item`'s weights live once fetched (the file name the registry looks for). */
export async function weightsDestination(item: SourceItem, dirs: string[]): Promise<string> {
  const spec = await archSpec(item.arch ?? '');
  return path.join(dirs[0], weightSource(spec, 'torchvision').file);
}

function requireAutomatic(item: SourceItem, noVerify: boolean): NonNullable<SourceItem['file']> {
  if (!item.file) throw new UserError(`${item.key}: no automatic download; ${manualSteps(item)}`);
  if (item.file.sha256 === null && !noVerify) {
    throw new UserError(`${item.key}: the sources table gives no sha256 for ${item.file.name}; pass --no-verify to download it unverified`);
  }
  return item.file;
}

/**
 * The `download` command's weights step: verifies a file already in a weights folder, else downloads it
 * into the first one.
 */
export async function fetchWeights(item: SourceItem, o: FetchWeightsOptions = {}): Promise<{ path: string; outcome: DownloadOutcome }> {
  const file = requireAutomatic(item, o.noVerify ?? false);
  const dirs = o.weightDirs ?? defaultWeightDirs();
  const spec = await archSpec(item.arch ?? '');
  const dest = locateDefaultWeights(spec, 'torchvision', dirs) ?? (await weightsDestination(item, dirs));
  return { path: dest, outcome: await downloadFile(file, dest, o) };
}

export interface ResolveWeightsOptions extends FetchWeightsOptions {
  arch: string;
  format: PretrainedFormat;
  /** `--not_pretrained` (or a resumed run, whose weights come from its checkpoint). */
  notPretrained: boolean;
  /** `--pretrained FILE`, used as given. */
  pretrained?: string;
  /** `--offline` or MIC_TRAIN_OFFLINE: never download. */
  offline: boolean;
  env?: NodeJS.ProcessEnv;
}

/**
 * The weights file a training run should load: `--pretrained` as given, a file in the weights folders, or —
 * when there is none, the table has an automatic source and the run is not offline — a fresh download.
 * Returns undefined when there is nothing to load or nothing to fetch (buildModel then says what is missing).
 */
export async function resolvePretrainedWeights(o: ResolveWeightsOptions): Promise<string | undefined> {
  if (o.notPretrained || o.pretrained !== undefined || o.format !== 'torchvision') return o.pretrained;
  const spec = await archSpec(o.arch);
  const dirs = o.weightDirs ?? defaultWeightDirs();
  const found = locateDefaultWeights(spec, o.format, dirs);
  if (found) return found;
  const item = weightsItemFor(loadSources(o.env), o.arch);
  if (!item?.file) return undefined;
  const missing = missingWeightsMessage(spec, o.format, dirs);
  if (o.offline) {
    throw new UserError(
      `${missing} (offline: --offline or MIC_TRAIN_OFFLINE=1, so nothing was downloaded; \`mic-train download ${item.key}\` fetches them where there is network)`,
    );
  }
  const dest = await weightsDestination(item, dirs);
  const file = requireAutomatic(item, o.noVerify ?? false);
  o.log?.(
    `weights: no local ${path.basename(dest)}; downloading ${item.title} (${formatBytes(file.size)}, sha256 ${file.sha256?.slice(0, 12)}…) from ${file.urls[0]} into ${dest}`,
  );
  try {
    await downloadFile(file, dest, o);
  } catch (e) {
    if (e instanceof UserError && e.exitCode === 130) throw e;
    throw new UserError(`${missing}; the automatic download failed: ${(e as Error).message}`);
  }
  return dest;
}
