/**
 * CI smoke run of the paper: `Result_Runs.sh -- --n_epochs 1 --input-size 32 …` runs all five recipes on tiny
 * generated copies of the five real dataset layouts, and every run folder is checked complete: the recipe's
 * flags reached the run, the CSV columns of each dataset, VehicleID's three test sets, In-Shop's query →
 * gallery recoveries, and a best checkpoint that loads and reproduces the logged Recall@1.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { loadCheckpoint } from '../../src/io/checkpoint.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { recoveryLayout } from '../../src/report/recoveries.ts';
import { readCsv, REPO, runCli } from '../helpers/cli.ts';
import { INSHOP_STRIPE, makePaperDatasets } from '../helpers/paper-datasets.ts';

const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-paper-'));
const data = path.join(parent, 'data');
const out = path.join(parent, 'out');
after(() => fs.rmSync(parent, { recursive: true, force: true }));

/** The paper's recipes as the original Result_Runs.sh wrote them (independent of the script under test). */
const RECIPES = {
  cub200: { savename: 'result_run_cub200', kVals: [1, 2, 4, 8], taskP: [1, 0.8], tau: [50], advWeights: [2500], sharedNumClasses: 30 },
  cars196: { savename: 'result_run_cars196', kVals: [1, 2, 4, 8], taskP: [1, 0.8], tau: [60], advWeights: [500], sharedNumClasses: 150 },
  online_products: { savename: 'result_run_sop', kVals: [1, 10, 100, 1000], taskP: [1, 0.5], tau: [20, 35], advWeights: [250], sharedNumClasses: 50 },
  'in-shop': { savename: 'result_run_inshop', kVals: [1, 10, 20, 30, 50], taskP: [1, 0.8], tau: [50], advWeights: [250], sharedNumClasses: 150 },
  vehicle_id: { savename: 'result_run_vhid', kVals: [1, 5], taskP: [1, 0.5], tau: [20, 35], advWeights: [250], sharedNumClasses: 50 },
} as const;
type Dataset = keyof typeof RECIPES;

const block = (k: readonly number[], prefix = '') => ['NMI', 'F1', ...k.map((x) => `Recall @ ${x}`), 'MAP@R', 'R-Precision'].map((c) => prefix + c);
const expectedHeader = (ds: Dataset) => [
  'Epochs',
  'Time',
  ...(ds === 'vehicle_id' ? [0, 1, 2].flatMap((s) => block(RECIPES[ds].kVals, `Set ${s} `)) : block(RECIPES[ds].kVals)),
];

const runDir = (ds: Dataset) => path.join(out, ds, RECIPES[ds].savename);

test('Result_Runs.sh runs all five paper recipes for one epoch on tiny data in the real layouts', { timeout: 900_000 }, async (t) => {
  await makePaperDatasets(data);
  const smoke = [
    ...'--n_epochs 1 --input-size 32 --bs 8 --source_path'.split(' '),
    data,
    '--not_pretrained',
    '--save_path',
    out,
    ...'--backend wasm --kernels 1'.split(' '),
  ];
  const r = spawnSync('bash', [path.join(REPO, 'Result_Runs.sh'), '--', ...smoke], { cwd: REPO, encoding: 'utf8', timeout: 850_000 });
  assert.equal(r.status, 0, `Result_Runs.sh failed:\n${r.stderr.slice(-4000)}`);
  for (const ds of Object.keys(RECIPES) as Dataset[])
    assert.ok(r.stdout.includes(`${ds} -> ${runDir(ds)}\n`), `where ${ds}'s run went:\n${r.stdout}`);

  for (const ds of Object.keys(RECIPES) as Dataset[]) {
    await t.test(`${ds}: run folder complete`, () => checkRunFolder(ds));
  }
  await t.test('in-shop: every recoveries row is a query followed by gallery images', () => checkInShopRecoveries());
  await t.test('cub200: the best checkpoint embeds the test images to the Recall@1 the CSV logged', () => checkCheckpointReproducesRecall());
  await t.test('report over the five runs lists each with the paper numbers', () => {
    const md = path.join(parent, 'paper.md');
    const rep = runCli(['report', ...(Object.keys(RECIPES) as Dataset[]).map(runDir), '--out', md]);
    assert.equal(rep.code, 0, rep.stderr);
    const text = fs.readFileSync(md, 'utf8');
    for (const ds of Object.keys(RECIPES) as Dataset[]) assert.ok(text.includes(`| ${RECIPES[ds].savename} | ${ds} | MIC |`), ds);
    assert.match(text, /\| \*\*paper \(MIC, published\)\*\* \| \*\*69\.7†\*\* \| \*\*—\*\* \| \*\*66\.1\*\* \| \*\*76\.8\*\* \| \*\*85\.6\*\* \|/);
  });
});

function checkRunFolder(ds: Dataset): void {
  const dir = runDir(ds);
  const recipe = RECIPES[ds];
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'hypa.json'), 'utf8'));
  // The recipe's flags reached the run, and the appended smoke flags won over the recipe's own --n_epochs.
  assert.deepEqual(
    {
      dataset: cfg.dataset,
      seed: cfg.seed,
      taskP: cfg.taskP,
      tau: cfg.tau,
      advWeights: cfg.advWeights,
      sharedNumClasses: cfg.sharedNumClasses,
      clusterUpdateFreq: cfg.clusterUpdateFreq,
      randomClusterPickP: cfg.randomClusterPickP,
      kVals: cfg.kVals,
      nEpochs: cfg.nEpochs,
      inputSize: cfg.inputSize,
    },
    {
      dataset: ds,
      seed: 0,
      taskP: recipe.taskP,
      tau: recipe.tau,
      advWeights: recipe.advWeights,
      sharedNumClasses: recipe.sharedNumClasses,
      clusterUpdateFreq: 3,
      randomClusterPickP: 0.2,
      kVals: recipe.kVals,
      nEpochs: 1,
      inputSize: 32,
    },
  );
  const vid = ds === 'vehicle_id';
  const files = [
    'Parameter_Info.txt',
    'Curr_Summary_Class.txt',
    'log_train_Class.csv',
    'log_val_Class.csv',
    'last/model.safetensors',
    'last/state.json',
  ];
  files.push(
    ...(vid
      ? [1, 2, 3].flatMap((s) => [`InfoPlot_Class_Set${s}.svg`, `sample_recoveries_set${s}.png`])
      : ['InfoPlot_Class.svg', 'sample_recoveries.png']),
  );
  for (const f of files) assert.ok(fs.existsSync(path.join(dir, f)), `${ds}: ${f}`);

  const train = readCsv(path.join(dir, 'log_train_Class.csv'));
  assert.deepEqual(train[0], ['Epochs', 'Time', 'Train Loss']);
  assert.equal(train.length, 2, `${ds}: one train row`);
  assert.ok(Number.isFinite(Number(train[1][2])), `${ds}: finite loss ${train[1][2]}`);
  const val = readCsv(path.join(dir, 'log_val_Class.csv'));
  assert.deepEqual(val[0], expectedHeader(ds));
  assert.equal(val.length, 2, `${ds}: one val row`);
  assert.equal(val[1][0], '0');
  for (const v of val[1].slice(2)) assert.ok(Number(v) >= 0 && Number(v) <= 1, `${ds}: metric ${v}`);

  for (const ck of vid ? ['checkpoint_set1', 'checkpoint_set2', 'checkpoint_set3'] : ['checkpoint_Class']) {
    const c = loadCheckpoint(path.join(dir, ck));
    assert.deepEqual(c.tensors.get('conv1.weight')?.shape, [64, 3, 7, 7], `${ds}/${ck}`);
    assert.deepEqual(c.tensors.get('last_linear.Class.weight')?.shape, [128, 2048], `${ds}/${ck}`);
    assert.equal((c.state as { config: { dataset: string } }).config.dataset, ds);
  }
}

/** The stripe of a fixture In-Shop tile: near the image's top (query) or bottom (gallery), judged from the picture. */
async function checkInShopRecoveries(): Promise<void> {
  const png = path.join(runDir('in-shop'), 'sample_recoveries.png');
  const { data: px, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const { cell, frame } = recoveryLayout(10, 4);
  assert.deepEqual([info.width, info.height], [4 * cell, 10 * cell]);
  const at = (x: number, y: number) => [0, 1, 2].map((c) => px[(y * info.width + x) * 3 + c]);
  const dist = (a: number[], b: number[]) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
  // A 40×32 image fitted into a 128 px tile is 128×102 at rows 13..115: its stripe rows 0–5 land near tile row
  // 13–32, rows 26–31 near 96–115. Sample the tile's middle column, away from the badges in the corners.
  const stripeOf = (row: number, col: number): 'query' | 'gallery' => {
    const x0 = col * cell + frame + 64;
    const y0 = row * cell + frame;
    const body = at(x0, y0 + 64);
    const top = dist(at(x0, y0 + 13 + Math.round((INSHOP_STRIPE.query + 3) * 3.2)), body);
    const bottom = dist(at(x0, y0 + 13 + Math.round((INSHOP_STRIPE.gallery + 3) * 3.2)), body);
    return top > bottom ? 'query' : 'gallery';
  };
  for (let row = 0; row < 10; row++) {
    assert.equal(stripeOf(row, 0), 'query', `row ${row}: the first tile is a query image`);
    for (let col = 1; col < 4; col++) assert.equal(stripeOf(row, col), 'gallery', `row ${row}, neighbour ${col}: a gallery image`);
  }
}

function checkCheckpointReproducesRecall(): void {
  const dir = runDir('cub200');
  const gallery = path.join(parent, 'cub-test.safetensors');
  const e = runCli([
    'embed',
    '--checkpoint',
    path.join(dir, 'checkpoint_Class'),
    '--images',
    path.join(data, 'cub200', 'images'),
    '--out',
    gallery,
    ...'--backend wasm --kernels 1'.split(' '),
  ]);
  assert.equal(e.code, 0, e.stderr);
  const { tensors, metadata } = readSafetensors(gallery);
  const emb = tensors.get('embeddings')!;
  const paths = JSON.parse(metadata.paths) as string[];
  const dim = emb.shape[1];
  // Test classes = the second half in numeric order (005–008); the label is the class folder.
  const test = paths.map((p, i) => ({ i, cls: path.basename(path.dirname(p)) })).filter((x) => Number(x.cls.slice(0, 3)) > 4);
  assert.equal(test.length, 16);
  const v = emb.data as Float32Array;
  let hits = 0;
  for (const q of test) {
    let best = -1;
    let bestD = Infinity;
    for (const g of test) {
      if (g.i === q.i) continue;
      let d = 0;
      for (let k = 0; k < dim; k++) d += (v[q.i * dim + k] - v[g.i * dim + k]) ** 2;
      if (d < bestD) [bestD, best] = [d, g.i];
    }
    if (test.find((x) => x.i === best)!.cls === q.cls) hits++;
  }
  const logged = readCsv(path.join(dir, 'log_val_Class.csv'));
  const r1 = Number(logged[1][logged[0].indexOf('Recall @ 1')]);
  assert.equal(hits / test.length, r1, `Recall@1 from the checkpoint's embeddings (${hits}/16) vs the CSV (${r1})`);
}
