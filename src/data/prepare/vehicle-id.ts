/**
 * `mic-train prepare vehicle_id --from DIR`: PKU VehicleID as its authors send it — the `VehicleID_V1.0`
 * folder (`image/`, `train_test_split/`, `attribute/`), DIR itself holding those folders, or an archive of it
 * (`VehicleID*.zip`, `.tgz`, `.tar.gz`, `.tar`) — into `vehicle_id/image/` and `vehicle_id/train_test_split/`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.ts';
import { extractArchive } from '../../io/archive.ts';
import { VEHICLEID_TEST_SETS } from '../datasets/vehicle-id.ts';
import { installDataset } from './install.ts';
import { findIn, placeTree, requireFromDir, type PrepareOptions } from './inputs.ts';

const SPLIT_FILES = ['train_list.txt', ...VEHICLEID_TEST_SETS.map((s) => s.file)];
const KEPT = new Set(['image', 'train_test_split', 'attribute']);

/** Archive member → dataset path: the three folders, at the top or one folder down (`VehicleID_V1.0/image/…`). */
function vehicleIdMember(m: string): string | null {
  const parts = m.split('/');
  if (KEPT.has(parts[0])) return m;
  if (parts.length > 2 && KEPT.has(parts[1])) return parts.slice(1).join('/');
  return null;
}

/** Throws naming the first split list `root` lacks. */
function requireSplitFiles(root: string, source: string): void {
  for (const f of SPLIT_FILES) {
    if (!fs.existsSync(path.join(root, 'train_test_split', f)))
      throw new UserError(`${source}: train_test_split/${f} not found (VehicleID's split lists)`);
  }
}

export async function prepareVehicleId(from: string, o: PrepareOptions): Promise<string> {
  const dir = requireFromDir(from);
  const base = [dir, path.join(dir, 'VehicleID_V1.0')].find(
    (d) => fs.existsSync(path.join(d, 'image')) || fs.existsSync(path.join(d, 'train_test_split')),
  );
  const archive = base ? null : fs.readdirSync(dir).find((f) => /^VehicleID.*\.(zip|tgz|tar\.gz|tar)$/i.test(f));
  if (!base && !archive) {
    throw new UserError(
      `--from ${from}: found neither the VehicleID_V1.0 folders (image/, train_test_split/) nor a VehicleID*.zip/.tgz/.tar archive`,
    );
  }
  if (base) {
    if (!fs.existsSync(path.join(base, 'image'))) throw new UserError(`${base}: image/ not found (VehicleID's images)`);
    requireSplitFiles(base, base);
  }
  const source = base ?? path.join(dir, archive!);
  const { root } = await installDataset(
    'vehicle_id',
    o.sourcePath,
    { from: source },
    async (staging) => {
      if (base) {
        for (const sub of KEPT) if (fs.existsSync(path.join(base, sub))) placeTree(path.join(base, sub), path.join(staging, sub));
      } else {
        await extractArchive(source, { dest: staging, map: vehicleIdMember, progress: o.progress ?? {} });
        if (!fs.existsSync(path.join(staging, 'image'))) throw new UserError(`${source}: no image/ folder in the archive (VehicleID's images)`);
        requireSplitFiles(staging, source);
      }
    },
    o.log,
  );
  return root;
}
