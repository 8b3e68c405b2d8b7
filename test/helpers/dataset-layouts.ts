/**
 * Test helper: tiny copies of each real dataset layout (docs/porting.md#datasets), written into a temp dir with a few
 * small real JPEGs each, so every loader is tested end to end. The shapes of the index files follow the
 * public datasets: SOP `Info_Files/Ebay_*.txt` with a header line, In-Shop `Eval/list_eval_partition.txt`
 * with a count line and a header line, VehicleID `train_test_split/*.txt` lines "image_id vehicle_id".
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

/** A small JPEG of one colour (the colour says which class it came from when a test looks). */
export async function tinyJpeg(r: number, g: number, b: number, width = 12, height = 10): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r, g, b } } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

function write(file: string, data: Buffer | string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
}

/**
 * CUB layout under `<parent>/cub200`: classes whose numeric order (1, 2, 3, 10) differs from their string
 * order (1, 10, 2, 3); class i has `i % 3 + 2` images; a `._` resource fork and a `notes.txt` are ignored.
 * Train = 1.Zebra, 2.Apple; test = 3.Kiwi, 10.Mango.
 */
export async function makeCub(parent: string): Promise<string> {
  const root = path.join(parent, 'cub200');
  const jpg = await tinyJpeg(200, 40, 40);
  const classes = ['10.Mango', '2.Apple', '1.Zebra', '3.Kiwi'];
  for (const cls of classes) {
    const n = (Number(cls.split('.')[0]) % 3) + 2;
    for (let k = 0; k < n; k++) write(path.join(root, 'images', cls, `${cls.split('.')[1]}_${k}.jpg`), jpg);
  }
  write(path.join(root, 'images', '2.Apple', '._Apple_0.jpg'), 'resource fork');
  write(path.join(root, 'images', '2.Apple', 'notes.txt'), 'not an image');
  return root;
}

/**
 * CARS layout under `<parent>/cars196`: Python string order is 'Audi A4 2010' < 'BMW M3 2012' <
 * 'Bentley Arnage 2009' < 'acura TL 2012' (upper case before lower case, 'M' < 'e').
 */
export async function makeCars(parent: string): Promise<string> {
  const root = path.join(parent, 'cars196');
  const jpg = await tinyJpeg(40, 200, 40);
  const classes = ['acura TL 2012', 'Bentley Arnage 2009', 'BMW M3 2012', 'Audi A4 2010'];
  classes.forEach((cls, i) => {
    for (let k = 0; k < 2 + i; k++) write(path.join(root, 'images', cls, `${String(k).padStart(5, '0')}.jpg`), jpg);
  });
  return root;
}

/**
 * SOP layout under `<parent>/online_products`: train class_ids 7, 3, 12 (3 → label 0, 7 → 1, 12 → 2),
 * test class_ids 20, 15. Returns the root and the expected rows.
 */
export async function makeSop(parent: string): Promise<string> {
  const root = path.join(parent, 'online_products');
  const jpg = await tinyJpeg(40, 40, 200);
  const train = [
    [1, 7, 1, 'bicycle_final/111_0.JPG'],
    [2, 7, 1, 'bicycle_final/111_1.JPG'],
    [3, 3, 2, 'chair_final/222_0.JPG'],
    [4, 12, 2, 'chair_final/333_0.JPG'],
    [5, 12, 2, 'chair_final/333_1.JPG'],
    [6, 12, 2, 'chair_final/333_2.JPG'],
  ] as const;
  const test = [
    [7, 20, 3, 'lamp_final/444_0.JPG'],
    [8, 20, 3, 'lamp_final/444_1.JPG'],
    [9, 15, 1, 'bicycle_final/555_0.JPG'],
    [10, 15, 1, 'bicycle_final/555_1.JPG'],
  ] as const;
  for (const [name, rows] of [
    ['train', train],
    ['test', test],
  ] as const) {
    const lines = ['image_id class_id super_class_id path', ...rows.map((r) => r.join(' '))];
    write(path.join(root, 'Info_Files', `Ebay_${name}.txt`), lines.join('\n') + '\n');
    for (const r of rows) write(path.join(root, 'images', r[3]), jpg);
  }
  return root;
}

/**
 * In-Shop layout under `<parent>/in-shop`: count line, header line, then 9 rows. The first data row is a
 * train image of id_00000002 (the row the original dropped). Train items 2, 9, 4 → labels by number
 * (2 → 0, 4 → 1, 9 → 2); query/gallery items 31 and 17 share one mapping (17 → 0, 31 → 1).
 */
export async function makeInShop(parent: string): Promise<string> {
  const root = path.join(parent, 'in-shop');
  const jpg = await tinyJpeg(120, 120, 40);
  const rows = [
    ['img/WOMEN/Dresses/id_00000002/02_1_front.jpg', 'id_00000002', 'train'],
    ['img/WOMEN/Dresses/id_00000002/02_2_side.jpg', 'id_00000002', 'train'],
    ['img/MEN/Denim/id_00000009/01_1_front.jpg', 'id_00000009', 'train'],
    ['img/MEN/Denim/id_00000004/01_1_front.jpg', 'id_00000004', 'train'],
    ['img/WOMEN/Skirts/id_00000031/01_1_front.jpg', 'id_00000031', 'query'],
    ['img/WOMEN/Skirts/id_00000031/01_2_side.jpg', 'id_00000031', 'gallery'],
    ['img/WOMEN/Skirts/id_00000031/01_3_back.jpg', 'id_00000031', 'gallery'],
    ['img/MEN/Tees/id_00000017/01_1_front.jpg', 'id_00000017', 'gallery'],
    ['img/MEN/Tees/id_00000017/01_2_side.jpg', 'id_00000017', 'query'],
  ];
  const lines = [String(rows.length), 'image_name item_id evaluation_status', ...rows.map((r) => `${r[0].padEnd(50)} ${r[1]} ${r[2]}`)];
  write(path.join(root, 'Eval', 'list_eval_partition.txt'), lines.join('\n') + '\n');
  for (const r of rows) write(path.join(root, r[0]), jpg);
  return root;
}

/**
 * VehicleID layout under `<parent>/vehicle_id`: train vehicles 0000050 and 0000007 (→ labels 1, 0);
 * test lists 800 ⊂ 1600 ⊂ 2400 over vehicles 0000101, 0000100, 0000102 (one mapping: 100 → 0, 101 → 1,
 * 102 → 2). Set sizes 2 / 4 / 6 images.
 */
export async function makeVehicleId(parent: string): Promise<string> {
  const root = path.join(parent, 'vehicle_id');
  const jpg = await tinyJpeg(90, 90, 90);
  const lists: Record<string, [string, string][]> = {
    'train_list.txt': [
      ['0000001', '0000050'],
      ['0000002', '0000050'],
      ['0000003', '0000007'],
      ['0000004', '0000007'],
      ['0000005', '0000007'],
    ],
    'test_list_800.txt': [
      ['0001001', '0000101'],
      ['0001002', '0000101'],
    ],
    'test_list_1600.txt': [
      ['0001001', '0000101'],
      ['0001002', '0000101'],
      ['0001003', '0000100'],
      ['0001004', '0000100'],
    ],
    'test_list_2400.txt': [
      ['0001001', '0000101'],
      ['0001002', '0000101'],
      ['0001003', '0000100'],
      ['0001004', '0000100'],
      ['0001005', '0000102'],
      ['0001006', '0000102'],
    ],
  };
  for (const [file, rows] of Object.entries(lists)) {
    write(path.join(root, 'train_test_split', file), rows.map((r) => r.join(' ')).join('\n') + '\n');
    for (const [imageId] of rows) write(path.join(root, 'image', `${imageId}.jpg`), jpg);
  }
  return root;
}

/**
 * Generic folder layout directly under `root`: classes 'cat', 'Dog', 'bird', 'eel' (Python order 'Dog',
 * 'bird', 'cat', 'eel'), 2 images each, plus `split.txt` putting 'cat' and 'eel' in train.
 */
export async function makeFolder(root: string): Promise<string> {
  const jpg = await tinyJpeg(10, 10, 10);
  for (const cls of ['cat', 'Dog', 'bird', 'eel']) for (let k = 0; k < 2; k++) write(path.join(root, cls, `${k}.jpg`), jpg);
  write(path.join(root, 'split.txt'), '# class split\ncat train\nDog test\nbird test\neel train\n');
  return root;
}

/**
 * Corrupt files next to good ones, in a CUB-style folder `<parent>/corrupt/images/1.Good/`: a truncated
 * JPEG, a 0-byte file and a text file named .jpg, plus 3 valid JPEGs (the class has 6 files).
 */
export async function makeCorrupt(parent: string): Promise<{ root: string; good: string[]; bad: string[] }> {
  const root = path.join(parent, 'corrupt');
  const dir = path.join(root, 'images', '1.Good');
  const big = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 10, g: 120, b: 200 } } })
    .composite([{ input: { create: { width: 20, height: 20, channels: 3, background: { r: 250, g: 250, b: 0 } } }, left: 5, top: 5 }])
    .jpeg({ quality: 95 })
    .toBuffer();
  const good = ['a_good.jpg', 'c_good.jpg', 'e_good.jpg'].map((f) => path.join(dir, f));
  for (const f of good) write(f, big);
  const bad = [path.join(dir, 'b_truncated.jpg'), path.join(dir, 'd_empty.jpg'), path.join(dir, 'f_text.jpg')];
  write(bad[0], big.subarray(0, Math.floor(big.length / 2)));
  write(bad[1], Buffer.alloc(0));
  write(bad[2], 'this is a text file, not a JPEG\n');
  return { root, good, bad };
}
