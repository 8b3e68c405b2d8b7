// Port of: datasets.py give_OnlineProducts_datasets (docs/porting.md#dataset-sop)
import path from 'node:path';
import { checkManifest } from '../check-manifest.ts';
import type { Manifest, ManifestItem } from '../manifest.ts';
import { intField, labelSplit, readLines, requireDir, requireFile, splitFields, type LayoutDescription } from './layout.ts';

export const SOP_LAYOUT: LayoutDescription = {
  dataset: 'online_products',
  layout: 'Info_Files/Ebay_{train,test}.txt (lines "image_id class_id super_class_id path") and images/<category>_final/<image>.JPG',
};

/**
 * Stanford Online Products: `Info_Files/Ebay_train.txt` and `Ebay_test.txt` list
 * `image_id class_id super_class_id path` (one header line); paths are relative to `<root>/images`.
 * Labels per split = rank of `class_id` (numeric order), so 11,318 train / 11,316 test classes.
 */
export function loadOnlineProducts(root: string): Manifest {
  const imagesDir = path.join(root, 'images');
  requireDir(imagesDir, root, SOP_LAYOUT);
  const items: ManifestItem[] = [];
  const classNames = { train: [] as string[], test: [] as string[] };
  for (const split of ['train', 'test'] as const) {
    const file = path.join(root, 'Info_Files', `Ebay_${split}.txt`);
    requireFile(file, root, SOP_LAYOUT);
    const lines = readLines(file);
    const start = lines.length > 0 && lines[0].startsWith('image_id') ? 1 : 0;
    const entries = lines.slice(start).map((line, i) => {
      const [, classId, , rel] = splitFields(line, 4, file, i + 1 + start, 'image_id class_id super_class_id path');
      return { path: path.join(imagesDir, rel), key: intField(classId, file, i + 1 + start, 'class_id') };
    });
    const s = labelSplit(
      entries,
      split,
      (a, b) => a - b,
      (id) => `class_${id}`,
    );
    items.push(...s.items);
    classNames[split] = s.classNames;
  }
  return checkManifest({ dataset: SOP_LAYOUT.dataset, root, classNames, items });
}
