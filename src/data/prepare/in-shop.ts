/**
 * `mic-train prepare in-shop --from DIR`: DeepFashion's In-shop Clothes Retrieval Benchmark as its authors
 * share it — `img.zip` (the basic images, members `img/<MEN|WOMEN>/<Category>/<id>/…jpg`; or the unpacked
 * `img/` folder) and `list_eval_partition.txt`, either directly in DIR or in the benchmark's own `Img/` and
 * `Eval/` folders — into `in-shop/img/…` and `in-shop/Eval/list_eval_partition.txt`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.ts';
import { extractArchive } from '../../io/archive.ts';
import { installDataset, placeFile } from './install.ts';
import { findIn, placeTree, requireFromDir, type PrepareOptions } from './inputs.ts';

export async function prepareInShop(from: string, o: PrepareOptions): Promise<string> {
  const dir = requireFromDir(from);
  const partition = findIn(dir, ['list_eval_partition.txt', 'Eval/list_eval_partition.txt'], 'file');
  if (!partition)
    throw new UserError(`--from ${from}: list_eval_partition.txt not found (in DIR or DIR/Eval/; the benchmark's train/query/gallery split)`);
  const archive = findIn(dir, ['img.zip', 'Img/img.zip'], 'file');
  const folder = archive ? null : findIn(dir, ['img', 'Img/img'], 'dir');
  if (!archive && !folder) {
    const highres = findIn(dir, ['img_highres.zip', 'Img/img_highres.zip'], 'file');
    const hint = highres ? ` (found ${path.basename(highres)}: use the basic img.zip instead, as the paper did)` : '';
    throw new UserError(`--from ${from}: neither img.zip nor an img/ folder found (in DIR or DIR/Img/; the benchmark's basic images)${hint}`);
  }
  const { root } = await installDataset(
    'in-shop',
    o.sourcePath,
    { from: archive ?? folder, partition },
    async (staging) => {
      if (archive) {
        const r = await extractArchive(archive, { dest: staging, map: (m) => (m.startsWith('img/') ? m : null), progress: o.progress ?? {} });
        if (r.files === 0) throw new UserError(`${archive}: no members under img/; expected the In-shop benchmark's img.zip`);
      } else {
        placeTree(folder!, path.join(staging, 'img'));
      }
      placeFile(partition, path.join(staging, 'Eval', 'list_eval_partition.txt'));
      if (!fs.existsSync(path.join(staging, 'img'))) throw new UserError(`${archive ?? folder}: no images`);
    },
    o.log,
  );
  return root;
}
