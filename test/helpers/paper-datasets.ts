/**
 * Tiny copies of the five paper datasets in their real layouts (the same index-file shapes as
 * `test/helpers/dataset-layouts.ts`), large enough to train on: every class has a few images, each a small JPEG
 * whose colour and stripe say its class. Everything is generated here; nothing is committed.
 *
 * Sizes per dataset (train / test): 4 classes × 4 images / 4 classes × 4 images, so at `--bs 8` an epoch
 * is two iterations and evaluation sees 16 images. In-Shop's test side has per item 2 query and 2 gallery
 * images; VehicleID's three test lists nest (2 ⊂ 3 ⊂ 4 vehicles, 3 images each).
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

const PER_CLASS = 4;

/** Where In-Shop's query and gallery images carry their stripe, so a test can tell them apart in a picture. */
export const INSHOP_STRIPE = { query: 0, gallery: 26 } as const;

/**
 * A 40×32 JPEG: a class colour with a 6-pixel stripe of the complementary colour at `stripeTop` (default: a
 * class- and image-dependent height).
 */
async function classImage(cls: number, img: number, stripeTop?: number): Promise<Buffer> {
  const hue = (cls * 47) % 360;
  const [r, g, b] = hsvToRgb(hue, 0.7, 0.8);
  const stripe = await sharp({ create: { width: 40, height: 6, channels: 3, background: { r: 255 - r, g: 255 - g, b: 255 - b } } })
    .png()
    .toBuffer();
  return sharp({ create: { width: 40, height: 32, channels: 3, background: { r, g, b } } })
    .composite([{ input: stripe, left: 0, top: stripeTop ?? (cls * 5 + img * 3) % 26 }])
    .jpeg({ quality: 85 })
    .toBuffer();
}

function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const f = (n: number) => {
    const k = (n + h / 60) % 6;
    return Math.round(255 * (v - v * s * Math.max(0, Math.min(k, 4 - k, 1))));
  };
  return [f(5), f(3), f(1)];
}

async function write(file: string, data: Buffer | string): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await fs.promises.writeFile(file, data);
}

/** CUB200: `images/<N.Name>/…jpg`, 8 classes in numeric order (the first 4 train). */
async function makeCub(root: string): Promise<void> {
  for (let c = 1; c <= 8; c++) {
    for (let i = 0; i < PER_CLASS; i++)
      await write(path.join(root, 'images', `${String(c).padStart(3, '0')}.Bird_${c}`, `Bird_${c}_${i}.jpg`), await classImage(c, i));
  }
}

/** CARS196: `images/<Make Model Year>/…jpg`, 8 classes in Python string order (the first 4 train). */
async function makeCars(root: string): Promise<void> {
  const names = [
    'Audi A4 2010',
    'BMW M3 2012',
    'Bentley Arnage 2009',
    'Chevrolet Volt 2011',
    'Dodge Ram 2010',
    'Fiat 500 2012',
    'Honda Jazz 2009',
    'acura TL 2012',
  ];
  for (const [c, name] of names.entries()) {
    for (let i = 0; i < PER_CLASS; i++)
      await write(path.join(root, 'images', name, `${String(c * 10 + i).padStart(5, '0')}.jpg`), await classImage(20 + c, i));
  }
}

/** SOP: `Info_Files/Ebay_{train,test}.txt` with a header line, images under `images/<category>_final/`. */
async function makeSop(root: string): Promise<void> {
  let imageId = 1;
  for (const [split, classIds] of [
    ['train', [3, 7, 12, 30]],
    ['test', [40, 41, 55, 60]],
  ] as const) {
    const lines = ['image_id class_id super_class_id path'];
    for (const [c, classId] of classIds.entries()) {
      const category = ['bicycle', 'chair', 'lamp', 'mug'][c];
      for (let i = 0; i < PER_CLASS; i++) {
        const rel = `${category}_final/${classId}${String(i).padStart(3, '0')}_${i}.JPG`;
        lines.push(`${imageId++} ${classId} ${c + 1} ${rel}`);
        await write(path.join(root, 'images', rel), await classImage(40 + classId, i));
      }
    }
    await write(path.join(root, 'Info_Files', `Ebay_${split}.txt`), lines.join('\n') + '\n');
  }
}

/** In-Shop: `Eval/list_eval_partition.txt` (count line, header line, rows), images under `img/…/id_XXXXXXXX/`. */
async function makeInShop(root: string): Promise<void> {
  const rows: { rel: string; item: string; status: 'train' | 'query' | 'gallery'; n: number; i: number }[] = [];
  const item = (n: number) => `id_${String(n).padStart(8, '0')}`;
  for (const n of [2, 4, 9, 11]) {
    for (let i = 0; i < PER_CLASS; i++)
      rows.push({ rel: `img/WOMEN/Dresses/${item(n)}/0${i + 1}_${i + 1}_front.jpg`, item: item(n), status: 'train', n, i });
  }
  for (const n of [17, 23, 31, 35]) {
    for (let i = 0; i < PER_CLASS; i++)
      rows.push({ rel: `img/MEN/Tees/${item(n)}/0${i + 1}_${i + 1}_side.jpg`, item: item(n), status: i % 2 === 0 ? 'query' : 'gallery', n, i });
  }
  const lines = [String(rows.length), 'image_name item_id evaluation_status', ...rows.map((r) => `${r.rel.padEnd(52)} ${r.item} ${r.status}`)];
  await write(path.join(root, 'Eval', 'list_eval_partition.txt'), lines.join('\n') + '\n');
  for (const r of rows) await write(path.join(root, r.rel), await classImage(r.n, r.i, r.status === 'train' ? undefined : INSHOP_STRIPE[r.status]));
}

/** VehicleID: `train_test_split/*.txt` ("image_id vehicle_id"), `image/<image_id>.jpg`; nested test lists. */
export async function makeVehicleId(root: string): Promise<void> {
  const train: string[] = [];
  let imageId = 1;
  for (const v of [7, 50, 61, 80])
    for (let i = 0; i < PER_CLASS; i++) train.push(`${String(imageId++).padStart(7, '0')} ${String(v).padStart(7, '0')}`);
  const testVehicles = [100, 101, 102, 103];
  const test: string[][] = testVehicles.map((v) => [0, 1, 2].map(() => `${String(imageId++).padStart(7, '0')} ${String(v).padStart(7, '0')}`));
  const lists: Record<string, string[]> = {
    'train_list.txt': train,
    'test_list_800.txt': test.slice(0, 2).flat(),
    'test_list_1600.txt': test.slice(0, 3).flat(),
    'test_list_2400.txt': test.flat(),
  };
  for (const [file, lines] of Object.entries(lists)) await write(path.join(root, 'train_test_split', file), lines.join('\n') + '\n');
  for (const line of [...train, ...test.flat()]) {
    const [id, v] = line.split(' ');
    await write(path.join(root, 'image', `${id}.jpg`), await classImage(Number(v), Number(id) % PER_CLASS));
  }
}

/** The five datasets under `parent/<dataset name>/` (what `--source_path parent` expects). */
export async function makePaperDatasets(parent: string): Promise<void> {
  await makeCub(path.join(parent, 'cub200'));
  await makeCars(path.join(parent, 'cars196'));
  await makeSop(path.join(parent, 'online_products'));
  await makeInShop(path.join(parent, 'in-shop'));
  await makeVehicleId(path.join(parent, 'vehicle_id'));
}
