/**
 * The start-up image check: every image of the run is opened and decoded once before any training, so a
 * broken dataset stops the run at once with the list of bad files instead of training on black images
 * (a class whose files all fail) or evaluating zero images. A few undecodable files are tolerated up to
 * `--max-bad-images` (a fraction of each split): training slots take another image of the same class, and
 * evaluation leaves them out of the metrics.
 */
import { UserError } from '../errors.ts';
import type { InputConvention } from './image-convention.ts';
import { decodeFailure, evalBatches } from './loader.ts';
import type { Manifest, Split } from './manifest.ts';

/** Smallest crop the check decodes to: the whole file is decoded, the resampling is negligible. */
const CHECK_SIZE = 8;

/** A file that could not be decoded, and why. */
export interface BadImage {
  path: string;
  reason: string;
}

/**
 * Decodes every distinct path once (`concurrency` at a time); returns those that failed. `onProgress(done,
 * total)` is called after each batch.
 */
export async function findUndecodable(
  paths: readonly string[],
  conv: InputConvention,
  opts: { concurrency: number; onProgress?: (done: number, total: number) => void },
): Promise<BadImage[]> {
  const unique = [...new Set(paths)];
  const bad: BadImage[] = [];
  let done = 0;
  for await (const b of evalBatches(unique, 64, CHECK_SIZE, conv, { concurrency: opts.concurrency, recycle: true, quiet: true })) {
    for (const i of b.failed) bad.push({ path: unique[i], reason: decodeFailure(unique[i]) ?? 'cannot be decoded' });
    done += b.n;
    opts.onProgress?.(done, unique.length);
  }
  return bad;
}

/** At most `max` entries of a list as "a (why), b (why), … and N more". */
export function listBad(bad: readonly BadImage[], max = 10): string {
  const shown = bad.slice(0, max).map((b) => `'${b.path}' (${b.reason})`);
  return shown.join(', ') + (bad.length > max ? `, … and ${bad.length - max} more` : '');
}

/**
 * Decides whether the run may go on with these undecodable files: a class left with no decodable image, or
 * a split with more than `maxShare` of its images bad, is a `UserError` listing them. Returns one line per
 * split that has bad files (for the log) when the run may go on.
 */
export function judgeUndecodable(m: Manifest, bad: readonly BadImage[], maxShare: number): string[] {
  if (bad.length === 0) return [];
  const reasons = new Map(bad.map((b) => [b.path, b.reason]));
  const emptied: string[] = [];
  const tooMany: string[] = [];
  const notes: string[] = [];
  for (const split of ['train', 'val', 'test'] as const satisfies readonly Split[]) {
    const items = m.items.filter((it) => it.split === split);
    const names = m.classNames[split] ?? [];
    const total = new Map<number, number>();
    const broken = new Map<number, number>();
    const splitBad: BadImage[] = [];
    for (const it of items) {
      total.set(it.label, (total.get(it.label) ?? 0) + 1);
      const reason = reasons.get(it.path);
      if (reason === undefined) continue;
      broken.set(it.label, (broken.get(it.label) ?? 0) + 1);
      splitBad.push({ path: it.path, reason });
    }
    if (splitBad.length === 0) continue;
    for (const [label, n] of broken)
      if (n === total.get(label)) emptied.push(`'${names[label] ?? label}' (${split}, ${n} file${n === 1 ? '' : 's'})`);
    const share = splitBad.length / items.length;
    const what = `${splitBad.length} of ${items.length} ${split} images`;
    if (share > maxShare) tooMany.push(`${what} (${(100 * share).toFixed(1)} %): ${listBad(splitBad)}`);
    else notes.push(`${what} cannot be decoded and are left out: ${listBad(splitBad)}`);
  }
  if (emptied.length > 0) {
    throw new UserError(
      `${emptied.length} class(es) have no image that can be decoded: ${emptied.join(', ')}; fix or remove their files: ${listBad(bad)}`,
    );
  }
  if (tooMany.length > 0) {
    throw new UserError(
      `too many images cannot be decoded, more than --max-bad-images ${maxShare} of a split: ${tooMany.join('; ')}; fix or remove them (or raise --max-bad-images)`,
    );
  }
  return notes;
}
