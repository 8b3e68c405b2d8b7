/**
 * `mic-train report` on run folders whose CSV values the test chose (see run-fixtures.ts): every number in the
 * tables is checked against a hand computation from those values and the paper's published numbers.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../../src/errors.ts';
import { differingKeys, formatDuration, metricHeader, signed, uniqueLabels } from '../../src/report/compare.ts';
import { PAPER_NUMBERS } from '../../src/report/paper-numbers.ts';
import { parseParameterInfo, readRunSummary } from '../../src/report/run-summary.ts';
import { writeReport } from '../../src/report/write-report.ts';
import { CUB_A, makeReportFixtures, makeRunFolder } from '../helpers/run-fixtures.ts';

const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-report-cmp-'));
after(() => fs.rmSync(parent, { recursive: true, force: true }));
const fixtures = makeReportFixtures(path.join(parent, 'runs'));

/** The cells of the Markdown table row that starts with `first`. */
function mdRow(md: string, first: string): string[] {
  const line = md.split('\n').find((l) => l.startsWith(`| ${first} |`));
  assert.ok(line, `no table row for '${first}' in:\n${md}`);
  return line.slice(2, -2).split(' | ');
}

test('markdown report: runs table, per-dataset best values with epochs, paper numbers and differences', async () => {
  const { cubA, cubB, carsCut } = await fixtures;
  const out = path.join(parent, 'report.md');
  const r = await writeReport({ runDirs: [cubA, cubB, carsCut], out });
  assert.deepEqual(r.written, [out, path.join(parent, 'report.svg')]);
  const md = fs.readFileSync(out, 'utf8');

  assert.deepEqual(mdRow(md, 'run'), [
    'run',
    'dataset',
    'method',
    'arch',
    'loss (miner)',
    'differing flags',
    'epochs done',
    'time (train + eval)',
    'backend / device',
  ]);
  // Time = Σ train Time + Σ eval Time: 100.5 + 101 + 99.5 + 20 + 21 + 19 = 361 s.
  assert.deepEqual(mdRow(md, 'cubA'), [
    'cubA',
    'cub200',
    'MIC',
    'resnet50',
    'marginloss (distance)',
    '--n_epochs 3 --tau 80 --lr 0.00001 --adv_weights 2500 --shared_num_classes 30',
    '3 / 3',
    '6 min 01 s',
    'tensorflow-gpu / GPU 0: NVIDIA A100',
  ]);
  assert.deepEqual(mdRow(md, 'cubB').slice(5), [
    '--n_epochs 3 --tau 30 --lr 0.00002 --adv_weights 2500 --shared_num_classes 30',
    '3 / 3',
    '3 min 00 s',
    'wasm / CPU',
  ]);
  assert.deepEqual(mdRow(md, 'carsCut').slice(5), [
    '--n_epochs 5 --tau 80 --lr 0.00001 --adv_weights 500 --shared_num_classes 150',
    '2 / 5 — incomplete: 2 of 5 epochs; stopped during epoch 2',
    '1 min 10 s',
    'wasm / CPU',
  ]);

  // CUB table: columns NMI F1 R@1 R@2 R@4 R@8 MAP@R; the paper row, then best @epoch (run − paper).
  assert.deepEqual(mdRow(md, ''), ['', 'NMI', 'F1', 'R@1', 'R@2', 'R@4', 'R@8', 'MAP@R']);
  assert.deepEqual(mdRow(md, '**paper (MIC, published)**').slice(1, 6), ['**69.7†**', '**—**', '**66.1**', '**76.8**', '**85.6**']);
  assert.deepEqual(mdRow(md, 'cubA').length, 9);
  const cubATable = md
    .split('\n')
    .filter((l) => l.startsWith('| cubA |'))[1]
    .slice(2, -2)
    .split(' | ');
  assert.deepEqual(cubATable, [
    'cubA',
    '66.0 @2 (\u22123.7)',
    '10.0 @0',
    '62.0 @1 (\u22124.1)',
    '75.0 @1 (\u22121.8)',
    '10.0 @0 (\u221275.6)',
    '10.0 @0',
    '10.0 @0',
  ]);
  const cubBTable = md
    .split('\n')
    .filter((l) => l.startsWith('| cubB |'))[1]
    .slice(2, -2)
    .split(' | ');
  assert.deepEqual(cubBTable.slice(0, 4), ['cubB', '52.0 @1 (\u221217.7)', '10.0 @0', '71.0 @2 (+4.9)']);
  const carsTable = md
    .split('\n')
    .find((l) => l.startsWith('| carsCut (incomplete) |'))!
    .slice(2, -2)
    .split(' | ');
  assert.deepEqual(carsTable.slice(0, 4), ['carsCut (incomplete)', '61.0 @1 (\u22127.4)', '10.0 @0', '84.0 @1 (+1.4)']);

  assert.match(md, /\*\*Incomplete runs\*\* \(reported from what their CSVs hold\):\n\n- carsCut: 2 of 5 epochs; stopped during epoch 2\n/);
  assert.match(md, /## CUB200-2011 \(cub200\)[\s\S]*## CARS196 \(cars196\)/);
  assert.match(md, /Paper row: MIC paper \(Roth, Brattoli, Ommer, ICCV 2019\), main comparison table/);
  assert.match(md, /† NMI: unverified/);
  assert.match(md, /!\[Recall@1 and NMI per epoch of every run\]\(report\.svg\)/);
  assert.match(md, /- carsCut, test queries and their 3 nearest neighbours: \[sample_recoveries\.png\]\(runs\/carsCut\/sample_recoveries\.png\)/);

  // The chart: per panel (R@1, NMI) one line per run, each labelled with its run.
  const svg = fs.readFileSync(path.join(parent, 'report.svg'), 'utf8');
  const lines = [...svg.matchAll(/<path aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="line mark"/g)].map((m) => m[1]);
  assert.equal(lines.length, 6, 'two panels × three runs');
  for (const label of ['cubA', 'cubB', 'carsCut']) assert.equal(lines.filter((l) => l.endsWith(`Run: ${label}`)).length, 2, label);
});

test('run summary: best value and its first epoch per column, straight from the CSV', async () => {
  const { cubA, carsCut } = await fixtures;
  const a = readRunSummary(cubA);
  assert.deepEqual(a.best['Recall @ 1'], { value: 0.62, epoch: 1 });
  assert.deepEqual(a.best['F1'], { value: 0.1, epoch: 0 }, 'ties keep the first epoch');
  assert.deepEqual(a.curves['NMI'], [0.6, 0.65, 0.66]);
  assert.equal(a.seconds, 361);
  assert.deepEqual(a.incomplete, []);
  const c = readRunSummary(carsCut);
  assert.equal(c.epochsDone, 2);
  assert.equal(c.epochsPlanned, 5);
  assert.deepEqual(c.incomplete, ['2 of 5 epochs', 'stopped during epoch 2']);
});

test('a run killed mid-write: the cut CSV row is ignored and said; a run with no epoch yet is still listed', async () => {
  const dir = await makeRunFolder(path.join(parent, 'damaged'), { ...CUB_A, name: 'cut', recoveries: undefined });
  fs.appendFileSync(path.join(dir, 'log_val_Class.csv'), '3,20,0.7,0.1');
  fs.appendFileSync(path.join(dir, 'log_train_Class.csv'), '3,100.5,0.2\n');
  const s = readRunSummary(dir);
  assert.equal(s.epochsDone, 3);
  assert.deepEqual(s.incomplete, ['1 damaged CSV row(s) ignored', 'last epoch trained but not evaluated']);

  const empty = await makeRunFolder(path.join(parent, 'damaged'), { ...CUB_A, name: 'fresh', epochs: [], recoveries: undefined });
  const r = await writeReport({ runDirs: [empty] });
  assert.match(
    r.stdout!,
    /\| fresh \| cub200 \| MIC \| resnet50 \| marginloss \(distance\) \| 0 \/ 3 — incomplete: no epoch finished \(of 3\) \| 0 s \| tensorflow-gpu \/ GPU 0: NVIDIA A100 \|/,
  );
  assert.match(r.stdout!, /\| fresh \(incomplete\) \| — \| — \| — \|/);
  assert.match(r.stdout!, /chart written only with --out/);
});

test('VehicleID: small/medium/large headers, the paper value under small R@1', async () => {
  const dir = await makeRunFolder(path.join(parent, 'vid'), {
    name: 'vid',
    flags: ['--dataset', 'vehicle_id', '--n_epochs', '1'],
    kVals: [1, 5],
    sets: 3,
    epochs: [{ trainSeconds: 1, loss: 0.2, evalSeconds: 1, metrics: { 'Set 0 Recall @ 1': 0.9, 'Set 2 Recall @ 1': 0.8 } }],
  });
  const md = (await writeReport({ runDirs: [dir] })).stdout!;
  assert.deepEqual(mdRow(md, '').slice(0, 7), ['', 'small NMI', 'small F1', 'small R@1', 'small R@5', 'small MAP@R', 'medium NMI']);
  const row = md
    .split('\n')
    .filter((l) => l.startsWith('| vid |'))[1]
    .slice(2, -2)
    .split(' | ');
  assert.equal(row[3], '90.0 @0 (+3.1)');
  assert.equal(row[13], '80.0 @0');
  assert.equal(md.includes('differing flags'), false, 'one run: nothing to compare');
});

test('HTML report: one file, inline SVG chart, recoveries as data URIs, nothing fetched', async () => {
  const { cubA, carsCut } = await fixtures;
  const out = path.join(parent, 'report.html');
  const r = await writeReport({ runDirs: [cubA, carsCut], out });
  assert.deepEqual(r.written, [out]);
  const html = fs.readFileSync(out, 'utf8');
  assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'"/);
  assert.equal((html.match(/<svg /g) ?? []).length, 1);
  for (const d of [cubA, carsCut]) {
    const b64 = fs.readFileSync(path.join(d, 'sample_recoveries.png')).toString('base64');
    assert.ok(html.includes(`src="data:image/png;base64,${b64}"`), `${d}'s recoveries embedded`);
  }
  assert.doesNotMatch(html, /<script|<link|(src|href)="(https?:|\/\/|file:)/);
  assert.match(html, /<td class="warn">2 \/ 5 — incomplete: 2 of 5 epochs; stopped during epoch 2<\/td>/);
  assert.match(html, /<td class="worse">62\.0 @1 \(\u22124\.1\)<\/td>/);
  assert.match(html, /<td class="better">84\.0 @1 \(\+1\.4\)<\/td>/);
});

test('mistakes are one-line errors before anything is written', async () => {
  const { cubA } = await fixtures;
  const notRun = fs.mkdtempSync(path.join(parent, 'plain-'));
  const out = path.join(parent, 'never.md');
  await assert.rejects(
    writeReport({ runDirs: [cubA, notRun], out }),
    (e: unknown) => e instanceof UserError && /not a mic-train run folder \(no hypa\.json\)/.test(e.message) && e.message.includes(notRun),
  );
  await assert.rejects(writeReport({ runDirs: [cubA], out: path.join(parent, 'r.txt') }), /--out: expected a file name ending in \.md or \.html/);
  await assert.rejects(writeReport({ runDirs: [cubA], out: path.join(parent, 'no-such-dir', 'r.md') }), /--out: folder .* does not exist/);
  await assert.rejects(writeReport({ runDirs: [] }), /give one or more run folders/);
  assert.equal(fs.existsSync(out), false);
});

test('helpers: labels, differing keys, headers, durations, signs, Parameter_Info', () => {
  assert.deepEqual(uniqueLabels(['/x/a/run', '/x/b/run', '/x/c/other']), ['a/run', 'b/run', 'c/other']);
  assert.deepEqual(uniqueLabels(['/x/r1', '/y/r2']), ['r1', 'r2']);
  assert.deepEqual(
    differingKeys([
      { lr: 1, seed: 0, savename: 'a', backend: 'wasm' },
      { lr: 2, seed: 0, savename: 'b', backend: 'cpu' },
    ]),
    ['lr'],
  );
  assert.equal(metricHeader('Set 1 Recall @ 5', 'vehicle_id'), 'medium R@5');
  assert.equal(metricHeader('Set 1 NMI', 'folder'), 'set 1 NMI');
  assert.equal(metricHeader('Recall @ 1000', 'online_products'), 'R@1000');
  assert.deepEqual([formatDuration(59.4), formatDuration(61), formatDuration(3 * 3600 + 7 * 60 + 59)], ['59 s', '1 min 01 s', '3 h 07 min']);
  assert.deepEqual([signed(1.25), signed(-0.04), signed(-2.36)], ['+1.3', '±0.0', '\u22122.4']);
  const info = parseParameterInfo('backend\n\tauto\n\nlr\n\t1e-05\n\nbackend\n\twasm\n\nversions\n\tnode: 20\n\ttfjs-core: 4.22.0\n');
  assert.equal(info.get('backend'), 'wasm');
  assert.equal(info.get('versions'), 'node: 20; tfjs-core: 4.22.0');
});

test('paper table: every value sits under a column the dataset logs', () => {
  const logged: Record<string, string[]> = {
    cub200: ['NMI', 'Recall @ 1', 'Recall @ 2', 'Recall @ 4', 'Recall @ 8'],
    cars196: ['NMI', 'Recall @ 1', 'Recall @ 2', 'Recall @ 4', 'Recall @ 8'],
    online_products: ['NMI', 'Recall @ 1', 'Recall @ 10', 'Recall @ 100', 'Recall @ 1000'],
    'in-shop': ['NMI', 'Recall @ 1', 'Recall @ 10', 'Recall @ 20', 'Recall @ 30', 'Recall @ 50'],
    vehicle_id: ['Set 0 Recall @ 1', 'Set 0 Recall @ 5'],
  };
  assert.deepEqual(Object.keys(PAPER_NUMBERS).sort(), Object.keys(logged).sort());
  for (const [ds, e] of Object.entries(PAPER_NUMBERS)) {
    for (const [col, v] of Object.entries(e.values)) {
      assert.ok(logged[ds].includes(col), `${ds}: ${col}`);
      assert.ok(v.value > 0 && v.value <= 100, `${ds} ${col} is a percentage`);
    }
  }
});
