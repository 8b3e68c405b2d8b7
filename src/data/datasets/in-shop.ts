// Port of: datasets.py give_InShop_datasets (docs/porting.md#dataset-inshop)
import path from 'node:path';
import { UserError } from '../../errors.ts';
import { checkManifest } from '../check-manifest.ts';
import type { Manifest, ManifestItem } from '../manifest.ts';
import { dataWarn } from '../warnings.ts';
import { intField, labelSplit, readLines, requireFile, splitFields, type LayoutDescription } from './layout.ts';

export const INSHOP_LAYOUT: LayoutDescription = {
  dataset: 'in-shop',
  layout:
    'Eval/list_eval_partition.txt (count line, header "image_name item_id evaluation_status", then rows) and img/<MEN|WOMEN>/<Category>/<id_XXXXXXXX>/<image>.jpg',
};

/**
 * In-Shop Clothes Retrieval: `Eval/list_eval_partition.txt` = a count line, a header line, then
 * `image_name item_id evaluation_status` rows (status train / query / gallery); image paths are relative
 * to the root. Label key = the number in `item_id`. Train labels are ranked among train items; query and
 * gallery share one ranking (test split, `role` query / gallery).
 *
 * Porting note: the original skipped one data row too many (25,881 train images); every row is read here.
 */
export function loadInShop(root: string): Manifest {
  const file = path.join(root, 'Eval', 'list_eval_partition.txt');
  requireFile(file, root, INSHOP_LAYOUT);
  const lines = readLines(file);
  let start = 0;
  let declared: number | undefined;
  if (lines.length > 0 && /^\d+$/.test(lines[0])) {
    declared = Number(lines[0]);
    start = 1;
  }
  if (lines.length > start && lines[start].startsWith('image_name')) start += 1;

  const train: { path: string; key: number; extra?: Partial<ManifestItem> }[] = [];
  const test: { path: string; key: number; extra?: Partial<ManifestItem> }[] = [];
  for (let i = start; i < lines.length; i++) {
    const [rel, itemId, status] = splitFields(lines[i], 3, file, i + 1, 'image_name item_id evaluation_status');
    const entry = { path: path.join(root, rel), key: intField(itemId, file, i + 1, 'item_id') };
    if (status === 'train') train.push(entry);
    else if (status === 'query' || status === 'gallery') test.push({ ...entry, extra: { role: status } });
    else throw new UserError(`'${file}' line ${i + 1}: evaluation_status must be train, query or gallery, found '${status}'`);
  }
  if (declared !== undefined && declared !== train.length + test.length) {
    dataWarn(`'${file}' declares ${declared} images on its first line but lists ${train.length + test.length}`);
  }
  const idName = (id: number) => `id_${String(id).padStart(8, '0')}`;
  const t = labelSplit(train, 'train', (a, b) => a - b, idName);
  const q = labelSplit(test, 'test', (a, b) => a - b, idName);
  return checkManifest({
    dataset: INSHOP_LAYOUT.dataset,
    root,
    classNames: { train: t.classNames, test: q.classNames },
    items: [...t.items, ...q.items],
  });
}
