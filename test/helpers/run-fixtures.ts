/**
 * Run folders for the report tests, written by the project's own writers (`writeRunInfo`, `RunReporter`) from
 * values the tests choose, so every number the report shows can be checked against a hand computation:
 * - `cubA`: CUB200, MIC defaults, 3 epochs; R@1 0.50 / 0.62 / 0.60, NMI 0.60 / 0.65 / 0.66.
 * - `cubB`: CUB200, `--lr 0.00002 --tau 30`, 3 epochs; R@1 0.55 / 0.58 / 0.71.
 * - `carsCut`: CARS196 planned for 5 epochs, stopped during epoch 2 (Ctrl-C): 2 rows, `last/` holds a partial epoch.
 * Each has a 16×8 PNG as its `sample_recoveries.png` (CARS: blue, else red).
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { parseArgv, resolveConfig } from '../../src/cli/parse.ts';
import { metricColumns } from '../../src/eval/evaluate.ts';
import { writeRunInfo } from '../../src/report/run-info.ts';
import { RunReporter } from '../../src/report/run-reporter.ts';

export interface FixtureRunSpec {
  name: string;
  flags: string[];
  kVals: number[];
  /** Per epoch: train seconds, train loss, eval seconds, and metric values by column (others get 0.1). */
  epochs: { trainSeconds: number; loss: number; evalSeconds: number; metrics: Record<string, number> }[];
  sets?: number;
  device?: string;
  backend?: string;
  /** Write last/state.json saying the run stopped inside this epoch. */
  partialEpoch?: number;
  recoveries?: { r: number; g: number; b: number };
}

export async function makeRunFolder(parent: string, s: FixtureRunSpec): Promise<string> {
  const cfg = resolveConfig(parseArgv([...s.flags, '--savename', s.name]));
  const dir = path.join(parent, s.name);
  fs.mkdirSync(dir, { recursive: true });
  writeRunInfo(dir, cfg, { backend: s.backend ?? 'wasm', device: s.device ?? 'CPU', threads: 1 });
  // The columns a run logs: per VehicleID-style test set a `Set g ` prefix.
  const cols = s.sets ? Array.from({ length: s.sets }, (_, g) => metricColumns(s.kVals, `Set ${g} `)).flat() : metricColumns(s.kVals);
  const reporter = new RunReporter(dir, cols);
  reporter.start();
  s.epochs.forEach((e, i) => {
    reporter.logTrain(i, e.trainSeconds, e.loss);
    reporter.logVal(i, e.evalSeconds, Object.fromEntries(cols.map((c) => [c, e.metrics[c] ?? 0.1])));
  });
  if (s.partialEpoch !== undefined) {
    fs.mkdirSync(path.join(dir, 'last'), { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'last', 'state.json'),
      JSON.stringify({
        format: 'mic-train-checkpoint',
        version: 1,
        state: { epoch: s.partialEpoch - 1, partial: { epoch: s.partialEpoch, iters: 7 } },
      }),
    );
  }
  if (s.recoveries) {
    const png = await sharp({ create: { width: 16, height: 8, channels: 3, background: s.recoveries } })
      .png()
      .toBuffer();
    fs.writeFileSync(path.join(dir, 'sample_recoveries.png'), png);
  }
  return dir;
}

const epoch = (trainSeconds: number, evalSeconds: number, metrics: Record<string, number>) => ({ trainSeconds, loss: 0.3, evalSeconds, metrics });

export const CUB_A: FixtureRunSpec = {
  name: 'cubA',
  flags: ['--dataset', 'cub200', '--n_epochs', '3'],
  kVals: [1, 2, 4, 8],
  epochs: [
    epoch(100.5, 20, { 'Recall @ 1': 0.5, NMI: 0.6, 'Recall @ 2': 0.7 }),
    epoch(101, 21, { 'Recall @ 1': 0.62, NMI: 0.65, 'Recall @ 2': 0.75 }),
    epoch(99.5, 19, { 'Recall @ 1': 0.6, NMI: 0.66, 'Recall @ 2': 0.74 }),
  ],
  backend: 'tensorflow-gpu',
  device: 'GPU 0: NVIDIA A100',
  recoveries: { r: 220, g: 30, b: 30 },
};

export const CUB_B: FixtureRunSpec = {
  name: 'cubB',
  flags: ['--dataset', 'cub200', '--n_epochs', '3', '--lr', '0.00002', '--tau', '30'],
  kVals: [1, 2, 4, 8],
  epochs: [
    epoch(50, 10, { 'Recall @ 1': 0.55, NMI: 0.5 }),
    epoch(50, 10, { 'Recall @ 1': 0.58, NMI: 0.52 }),
    epoch(50, 10, { 'Recall @ 1': 0.71, NMI: 0.51 }),
  ],
  recoveries: { r: 220, g: 30, b: 30 },
};

export const CARS_CUT: FixtureRunSpec = {
  name: 'carsCut',
  flags: ['--dataset', 'cars196', '--n_epochs', '5', '--shared_num_classes', '150', '--adv_weights', '500'],
  kVals: [1, 2, 4, 8],
  epochs: [epoch(30, 5, { 'Recall @ 1': 0.8, NMI: 0.6 }), epoch(30, 5, { 'Recall @ 1': 0.84, NMI: 0.61 })],
  partialEpoch: 2,
  recoveries: { r: 30, g: 30, b: 220 },
};

/** The three runs of the check: two complete sample runs and an interrupted one. */
export async function makeReportFixtures(parent: string): Promise<{ cubA: string; cubB: string; carsCut: string }> {
  return { cubA: await makeRunFolder(parent, CUB_A), cubB: await makeRunFolder(parent, CUB_B), carsCut: await makeRunFolder(parent, CARS_CUT) };
}
