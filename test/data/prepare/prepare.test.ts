import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadCars196 } from '../../../src/data/datasets/cars196.ts';
import { loadInShop } from '../../../src/data/datasets/in-shop.ts';
import { loadVehicleId } from '../../../src/data/datasets/vehicle-id.ts';
import { carsClassFolder, prepareCars196, readCarsAnnotations } from '../../../src/data/prepare/cars196.ts';
import { prepareFromTable } from '../../../src/data/prepare/from-table.ts';
import { prepareInShop } from '../../../src/data/prepare/in-shop.ts';
import { MARKER, verifyInstalled } from '../../../src/data/prepare/install.ts';
import { prepareVehicleId } from '../../../src/data/prepare/vehicle-id.ts';
import { UserError } from '../../../src/errors.ts';
import { tarBytes, tgzBytes, zipBytes, type ArchiveMember } from '../../helpers/archives.ts';
import { REPO } from '../../helpers/cli.ts';
import { makeInShop, makeVehicleId, tinyJpeg } from '../../helpers/dataset-layouts.ts';
import { tempDir } from '../../helpers/tmp.ts';

const tmp = tempDir('mic-prepare-test-');
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const quiet = { progress: { stream: { write: () => true }, tty: false } };
const MAT = path.join(REPO, 'test', 'fixtures', 'data', 'cars_annos_mini.mat');

let n = 0;
function box(): { from: string; out: string } {
  const dir = path.join(tmp, `case${n++}`);
  fs.mkdirSync(path.join(dir, 'from'), { recursive: true });
  return { from: path.join(dir, 'from'), out: path.join(dir, 'Datasets') };
}

const userError = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n');

/** Every file under `dir`, relative, sorted. */
function files(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((p) => fs.statSync(path.join(dir, p)).isFile()).sort();
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// cars_annos_mini.mat (scripts/fixtures/make_mat_fixtures.py): images 1–6, classes 1 1 2 3 3 4.
const CARS_EXPECTED = [
  'images/001.AM General Hummer SUV 2000/000001.jpg',
  'images/001.AM General Hummer SUV 2000/000002.jpg',
  'images/002.Acura RL Sedan 2012/000003.jpg',
  'images/003.Ram C-V Cargo Van Minivan 2012/000004.jpg',
  'images/003.Ram C-V Cargo Van Minivan 2012/000005.jpg',
  'images/004.smart fortwo Convertible 2012/000006.jpg',
];

async function carImages(): Promise<ArchiveMember[]> {
  const jpg = await tinyJpeg(30, 60, 90);
  return [1, 2, 3, 4, 5, 6].map((i) => ({ name: `car_ims/${String(i).padStart(6, '0')}.jpg`, data: jpg }));
}

test('cars196 folder names: class index first (official order = sorted order), "/" replaced', () => {
  assert.equal(carsClassFolder(173, 'Ram C/V Cargo Van Minivan 2012'), '173.Ram C-V Cargo Van Minivan 2012');
  assert.equal(carsClassFolder(7, ' Acura ZDX Hatchback 2012 '), '007.Acura ZDX Hatchback 2012');
  const a = readCarsAnnotations(MAT);
  assert.deepEqual([...a.targets.values()].sort(), CARS_EXPECTED);
});

test('prepare cars196 from car_ims.tgz + cars_annos.mat: class folders in official order; the loader splits classes 1–2 / 3–4', async () => {
  const { from, out } = box();
  fs.copyFileSync(MAT, path.join(from, 'cars_annos.mat'));
  fs.writeFileSync(
    path.join(from, 'car_ims.tgz'),
    tgzBytes([{ name: 'car_ims/', dir: true }, ...(await carImages()), { name: 'car_ims/999999.jpg', data: 'not listed' }]),
  );
  const root = await prepareCars196(from, { sourcePath: out, ...quiet });
  assert.equal(root, path.join(out, 'cars196'));
  assert.deepEqual(files(root), [MARKER, ...CARS_EXPECTED].sort());
  const m = loadCars196(root);
  assert.deepEqual(m.classNames, {
    train: ['001.AM General Hummer SUV 2000', '002.Acura RL Sedan 2012'],
    test: ['003.Ram C-V Cargo Van Minivan 2012', '004.smart fortwo Convertible 2012'],
  });
  assert.match(
    verifyInstalled('cars196', out)!,
    /is in place and verified \(3 train images \/ 2 classes, 3 test images \/ 2 classes; 6 files as installed\)/,
  );
  // An unpacked car_ims/ folder works too, and leaves its input as it was.
  const b = box();
  fs.copyFileSync(MAT, path.join(b.from, 'cars_annos.mat'));
  for (const m of await carImages())
    (fs.mkdirSync(path.join(b.from, 'car_ims'), { recursive: true }), fs.writeFileSync(path.join(b.from, m.name), m.data!));
  await prepareCars196(b.from, { sourcePath: b.out, ...quiet });
  assert.deepEqual(files(path.join(b.out, 'cars196')), [MARKER, ...CARS_EXPECTED].sort());
  assert.equal(files(b.from).length, 7);
});

test('prepare cars196: a missing annotation file, missing images, a wrong .mat: one-line errors naming them; nothing installed', async () => {
  const a = box();
  fs.writeFileSync(path.join(a.from, 'car_ims.tgz'), tgzBytes(await carImages()));
  await assert.rejects(prepareCars196(a.from, { sourcePath: a.out, ...quiet }), userError(/--from .*: cars_annos\.mat not found/));
  fs.copyFileSync(MAT, path.join(a.from, 'cars_annos.mat'));
  fs.writeFileSync(path.join(a.from, 'car_ims.tgz'), tgzBytes((await carImages()).slice(0, 4)));
  await assert.rejects(
    prepareCars196(a.from, { sourcePath: a.out, ...quiet }),
    userError(/car_ims\.tgz: 2 of the 6 images listed in cars_annos\.mat are missing, e\.g\. car_ims\/000005\.jpg/),
  );
  assert.deepEqual(fs.readdirSync(a.out), [], 'no dataset folder, no staging folder');
  const b = box();
  fs.copyFileSync(path.join(REPO, 'test', 'fixtures', 'data', 'mat_types.mat'), path.join(b.from, 'cars_annos.mat'));
  fs.mkdirSync(path.join(b.from, 'car_ims'));
  await assert.rejects(prepareCars196(b.from, { sourcePath: b.out, ...quiet }), userError(/cars_annos\.mat: no struct array 'annotations'/));
  const c = box();
  fs.copyFileSync(MAT, path.join(c.from, 'cars_annos.mat'));
  await assert.rejects(prepareCars196(c.from, { sourcePath: c.out, ...quiet }), userError(/neither car_ims\.tgz nor a car_ims\/ folder found/));
});

/** The In-Shop fixture's files as archive members (img/…) and its partition file. */
async function inShopSource(): Promise<{ images: ArchiveMember[]; partition: string }> {
  const src = await makeInShop(path.join(tmp, `inshop-src-${n++}`));
  const images = files(path.join(src, 'img')).map((f) => ({ name: `img/${f}`, data: fs.readFileSync(path.join(src, 'img', f)) }));
  return { images, partition: fs.readFileSync(path.join(src, 'Eval', 'list_eval_partition.txt'), 'utf8') };
}

test('prepare in-shop from img.zip + list_eval_partition.txt (flat, or in Img/ and Eval/), or an img/ folder', async () => {
  const { images, partition } = await inShopSource();
  const a = box();
  fs.writeFileSync(path.join(a.from, 'img.zip'), zipBytes([...images, { name: 'README.txt', data: 'skipped' }]));
  fs.writeFileSync(path.join(a.from, 'list_eval_partition.txt'), partition);
  const m = loadInShop(await prepareInShop(a.from, { sourcePath: a.out, ...quiet }));
  assert.equal(m.items.length, 9);
  assert.deepEqual(m.classNames.train, ['id_00000002', 'id_00000004', 'id_00000009']);
  const b = box();
  fs.mkdirSync(path.join(b.from, 'Img'));
  fs.mkdirSync(path.join(b.from, 'Eval'));
  fs.writeFileSync(path.join(b.from, 'Img', 'img.zip'), zipBytes(images));
  fs.writeFileSync(path.join(b.from, 'Eval', 'list_eval_partition.txt'), partition);
  assert.equal(loadInShop(await prepareInShop(b.from, { sourcePath: b.out, ...quiet })).items.length, 9);
  const c = box();
  for (const im of images)
    (fs.mkdirSync(path.dirname(path.join(c.from, im.name)), { recursive: true }), fs.writeFileSync(path.join(c.from, im.name), im.data!));
  fs.writeFileSync(path.join(c.from, 'list_eval_partition.txt'), partition);
  assert.equal(loadInShop(await prepareInShop(c.from, { sourcePath: c.out, ...quiet })).items.length, 9);
});

test('prepare in-shop: missing partition, only the high-res archive, an image missing: one-line errors', async () => {
  const { images, partition } = await inShopSource();
  const a = box();
  fs.writeFileSync(path.join(a.from, 'img.zip'), zipBytes(images));
  await assert.rejects(prepareInShop(a.from, { sourcePath: a.out, ...quiet }), userError(/list_eval_partition\.txt not found/));
  const b = box();
  fs.writeFileSync(path.join(b.from, 'img_highres.zip'), zipBytes(images));
  fs.writeFileSync(path.join(b.from, 'list_eval_partition.txt'), partition);
  await assert.rejects(
    prepareInShop(b.from, { sourcePath: b.out, ...quiet }),
    userError(/neither img\.zip nor an img\/ folder found .*found img_highres\.zip: use the basic img\.zip instead/),
  );
  const c = box();
  fs.writeFileSync(path.join(c.from, 'img.zip'), zipBytes(images.slice(1)));
  fs.writeFileSync(path.join(c.from, 'list_eval_partition.txt'), partition);
  await assert.rejects(
    prepareInShop(c.from, { sourcePath: c.out, ...quiet }),
    userError(/in-shop: the result does not pass the dataset's layout check, so nothing was installed \(.*1 of 9 listed image files do not exist/),
  );
  assert.deepEqual(fs.readdirSync(c.out), []);
});

test('prepare vehicle_id from the VehicleID_V1.0 folder, from DIR itself, or from an archive with a top folder', async () => {
  const src = await makeVehicleId(path.join(tmp, 'vid-src'));
  const expectTestSets = (root: string) =>
    assert.deepEqual(
      [
        ...new Set(
          loadVehicleId(root)
            .items.filter((i) => i.split === 'test')
            .map((i) => i.set),
        ),
      ],
      [1, 2, 3],
    );
  const a = box();
  fs.cpSync(src, path.join(a.from, 'VehicleID_V1.0'), { recursive: true });
  expectTestSets(await prepareVehicleId(a.from, { sourcePath: a.out, ...quiet }));
  const b = box();
  fs.cpSync(src, b.from, { recursive: true });
  expectTestSets(await prepareVehicleId(b.from, { sourcePath: b.out, ...quiet }));
  const c = box();
  const members = files(src).map((f) => ({ name: `VehicleID_V1.0/${f}`, data: fs.readFileSync(path.join(src, f)) }));
  fs.writeFileSync(
    path.join(c.from, 'VehicleID_V1.0.tar'),
    tarBytes([...members, { name: 'VehicleID_V1.0/attribute/color_attr.txt', data: '0000001 2\n' }]),
  );
  const root = await prepareVehicleId(c.from, { sourcePath: c.out, ...quiet });
  expectTestSets(root);
  assert.ok(fs.existsSync(path.join(root, 'attribute', 'color_attr.txt')));
});

test('prepare vehicle_id: a missing split list is named, before anything is written', async () => {
  const src = await makeVehicleId(path.join(tmp, 'vid-src2'));
  const a = box();
  fs.cpSync(src, a.from, { recursive: true });
  fs.rmSync(path.join(a.from, 'train_test_split', 'test_list_1600.txt'));
  await assert.rejects(prepareVehicleId(a.from, { sourcePath: a.out, ...quiet }), userError(/train_test_split\/test_list_1600\.txt not found/));
  assert.equal(fs.existsSync(a.out), false);
  const b = box();
  await assert.rejects(prepareVehicleId(b.from, { sourcePath: b.out, ...quiet }), userError(/found neither the VehicleID_V1\.0 folders/));
});

test('prepare cub200 from a hand-fetched archive: checked against the table (size, sha256) unless --no-verify', async () => {
  const jpg = await tinyJpeg(200, 100, 0);
  const members: ArchiveMember[] = ['001.A', '002.B', '003.C', '004.D'].flatMap((c) =>
    [0, 1].map((k) => ({ name: `CUB_200_2011/images/${c}/${k}.jpg`, data: jpg })),
  );
  const archive = tgzBytes(members);
  const table = path.join(tmp, 'cub-sources.json');
  const write = (sha: string) =>
    fs.writeFileSync(
      table,
      JSON.stringify({
        items: {
          cub200: {
            kind: 'dataset',
            title: 't',
            license: 'l',
            lands_in: 'Datasets/cub200/',
            unpack: [{ from: 'CUB_200_2011/', to: '' }],
            file: { name: 'CUB_200_2011.tgz', urls: ['http://127.0.0.1:1/x'], size: archive.length, sha256: sha, checksum_source: 'test' },
          },
        },
      }),
    );
  const env = { MIC_TRAIN_SOURCES: table };
  const a = box();
  fs.writeFileSync(path.join(a.from, 'CUB_200_2011.tgz'), archive);
  write('0'.repeat(64));
  await assert.rejects(
    prepareFromTable('cub200', a.from, { sourcePath: a.out, env, ...quiet }),
    userError(/CUB_200_2011\.tgz: sha256 [0-9a-f]{64}, expected 0{64} \(a different or damaged file; --no-verify accepts it\)/),
  );
  const root = await prepareFromTable('cub200', a.from, { sourcePath: a.out, env, noVerify: true, ...quiet });
  assert.deepEqual(files(path.join(root, 'images')).length, 8);
  const b = box();
  fs.writeFileSync(path.join(b.from, 'CUB_200_2011.tgz'), archive);
  write(sha256(archive));
  assert.ok(fs.existsSync(path.join(await prepareFromTable('cub200', b.from, { sourcePath: b.out, env, ...quiet }), 'images', '004.D', '1.jpg')));
});

test('an existing dataset folder: verified, or refused untouched when it is incomplete or changed', async () => {
  const { from, out } = box();
  fs.copyFileSync(MAT, path.join(from, 'cars_annos.mat'));
  fs.writeFileSync(path.join(from, 'car_ims.tgz'), tgzBytes(await carImages()));
  const root = await prepareCars196(from, { sourcePath: out, ...quiet });
  await assert.rejects(prepareCars196(from, { sourcePath: out, ...quiet }), userError(/cars196 already exists; move it away/));
  fs.appendFileSync(path.join(root, CARS_EXPECTED[0]), 'x');
  assert.throws(
    () => verifyInstalled('cars196', out),
    userError(/differs from what was installed \(6 files \/ \d+ bytes then, 6 \/ \d+ now\); it was left untouched/),
  );
  fs.rmSync(path.join(root, 'images'), { recursive: true });
  assert.throws(
    () => verifyInstalled('cars196', out),
    userError(/cars196 exists but is not a complete cars196 dataset \(.*folder .*images' not found/),
  );
  assert.equal(fs.existsSync(path.join(root, MARKER)), true, 'left as it was');
});
