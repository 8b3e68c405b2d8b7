// Port of: datasets.py give_VehicleID_datasets (docs/porting.md#dataset-vehicleid, docs/porting.md#eval-protocols)
import path from 'node:path';
import { checkManifest } from '../check-manifest.ts';
import type { Manifest, ManifestItem } from '../manifest.ts';
import { intField, labelSplit, readLines, requireDir, requireFile, splitFields, type LayoutDescription } from './layout.ts';

export const VEHICLEID_LAYOUT: LayoutDescription = {
  dataset: 'vehicle_id',
  layout: 'train_test_split/{train_list,test_list_800,test_list_1600,test_list_2400}.txt (lines "image_id vehicle_id") and image/<image_id>.jpg',
};

/** The three test lists and the `set` number each one gets (small, medium, large). */
export const VEHICLEID_TEST_SETS: ReadonlyArray<{ file: string; set: 1 | 2 | 3 }> = [
  { file: 'test_list_800.txt', set: 1 },
  { file: 'test_list_1600.txt', set: 2 },
  { file: 'test_list_2400.txt', set: 3 },
];

/**
 * PKU VehicleID: `train_test_split/train_list.txt` → train; the three test lists → test items tagged
 * `set` 1/2/3 (an image listed in several lists appears once per set). Train labels rank the train
 * vehicle ids; one shared ranking of vehicle ids covers all three test sets. Image path =
 * `<root>/image/<image_id>.jpg`.
 */
export function loadVehicleId(root: string): Manifest {
  const imageDir = path.join(root, 'image');
  requireDir(imageDir, root, VEHICLEID_LAYOUT);
  const read = (name: string) => {
    const file = path.join(root, 'train_test_split', name);
    requireFile(file, root, VEHICLEID_LAYOUT);
    return readLines(file).map((line, i) => {
      const [imageId, vehicleId] = splitFields(line, 2, file, i + 1, 'image_id vehicle_id');
      return { path: path.join(imageDir, `${imageId}.jpg`), key: intField(vehicleId, file, i + 1, 'vehicle_id') };
    });
  };
  const train = read('train_list.txt');
  const test: { path: string; key: number; extra: Partial<ManifestItem> }[] = [];
  for (const { file, set } of VEHICLEID_TEST_SETS) for (const e of read(file)) test.push({ ...e, extra: { set } });
  const idName = (id: number) => String(id).padStart(7, '0');
  const t = labelSplit(train, 'train', (a, b) => a - b, idName);
  const s = labelSplit(test, 'test', (a, b) => a - b, idName);
  return checkManifest({
    dataset: VEHICLEID_LAYOUT.dataset,
    root,
    classNames: { train: t.classNames, test: s.classNames },
    items: [...t.items, ...s.items],
  });
}
