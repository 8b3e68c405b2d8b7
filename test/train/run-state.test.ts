/**
 * The run state without a CLI run: a run saved to `last/` and restored into freshly built parts takes the same
 * next step as the run it was saved from; old and damaged state files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type * as tfType from '@tensorflow/tfjs';
import { parseArgv, resolveConfig } from '../../src/cli/parse.ts';
import { UserError } from '../../src/errors.ts';
import { loadCheckpoint, saveCheckpoint } from '../../src/io/checkpoint.ts';
import { SharedClusters } from '../../src/mic/shared-clusters.ts';
import { buildModel } from '../../src/models/build-model.ts';
import { RunReporter } from '../../src/report/run-reporter.ts';
import { Rng, rngFor } from '../../src/rng.ts';
import {
  loadLastCheckpoint,
  readRunState,
  restoreLastCheckpoint,
  saveBestCheckpoint,
  saveLastCheckpoint,
  STREAMS,
  type LiveRun,
  type PartialEpoch,
  type StreamName,
} from '../../src/train/run-state.ts';
import { buildTrainingParts, disposeTrainingParts } from '../../src/train/setup.ts';
import { taskStep } from '../../src/train/task-step.ts';
import { validRunState } from '../helpers/run-state.ts';
import { useTestBackend } from '../helpers/tf.ts';
import { tempDir } from '../helpers/tmp.ts';

// Class: margin loss (β), Shared: ProxyNCA (proxies), one adversarial direction: every kind of saved tensor.
const cfg = resolveConfig(
  parseArgv([...'--dataset folder --embed_sizes 16 16 --losses marginloss proxynca --adv_dim 32 --task_p 1 1 --bs 8'.split(' ')]),
);
const COLUMNS = ['NMI', 'Recall @ 1'];
const SIZE = 32;
const N = 8;

/** A live run whose network and parts are initialised from `seed` (different seeds: different weights). */
async function liveRun(seed: number, runDir: string): Promise<LiveRun> {
  const model = await buildModel({
    arch: 'resnet50',
    embedSizes: [16, 16],
    notPretrained: true,
    pretrainedFormat: 'torchvision',
    rng: rngFor(seed, 'init'),
    width: 16,
  });
  const rngs = Object.fromEntries(STREAMS.map((s) => [s, rngFor(seed, s)])) as Record<StreamName, Rng>;
  const parts = await buildTrainingParts(cfg, model, [4, 3], { miner: rngs.miner, init: rngFor(seed, 'init.loss') });
  const clusters = new SharedClusters(
    { model, paths: [], classLabels: new Int32Array(0), bs: N, inputSize: SIZE, conv: model.input, concurrency: 1 },
    { k: 3, iters: 5, maxPointsPerCentroid: 256, mode: 'mean', updateFreq: 1, kmeansRng: () => rngFor(seed, 'kmeans') },
  );
  return { header: { format: 'mic-train', config: cfg }, model, parts, rngs, clusters, reporter: new RunReporter(runDir, COLUMNS) };
}

const batch = (() => {
  const r = rngFor(9, 'data');
  return { images: Float32Array.from({ length: N * SIZE * SIZE * 3 }, () => r.normal()), labels: Int32Array.from([0, 0, 1, 1, 2, 2, 0, 1]) };
})();

/** One Class step and one Shared step on the fixed batch; the miner draws from the run's own stream. */
function trainStep(live: LiveRun): number[] {
  return ([0, 1] as const).map(
    (task) =>
      taskStep({
        model: live.model,
        task,
        loss: live.parts.losses[task]!,
        adversarial: live.parts.adversarial,
        optimizer: live.parts.optimizer,
        images: batch.images,
        n: N,
        size: SIZE,
        labels: batch.labels,
        microBs: N,
      }).loss,
  );
}

/** Every number a resume must bring back, as plain arrays. */
function everything(live: LiveRun, tf: typeof tfType) {
  const tensors = (m: Map<string, tfType.Tensor>) => Object.fromEntries([...m].map(([k, t]) => [k, Array.from(t.dataSync())]));
  const sd = live.model.stateDict();
  // Adam keys its moments by tfjs's process-local variable names: compare them under the stable names.
  const adam = live.parts.optimizer.state();
  const stable = new Map([...live.parts.named].map(([name, v]) => [v.name, name]));
  const byStable = <T>(r: Record<string, T>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [stable.get(k) ?? `unnamed ${k}`, v]));
  const out = {
    weights: tensors(sd),
    losses: live.parts.losses.map((l) => tensors(l!.stateDict())),
    adversarial: live.parts.adversarial.map((a) => tensors(a.stateDict())),
    adam: { groups: adam.groups, steps: byStable(adam.steps), m: byStable(adam.m), v: byStable(adam.v) },
    schedule: live.parts.schedule.state(),
    lrs: live.parts.optimizer.groups.map((g) => g.lr),
    rng: STREAMS.map((s) => live.rngs[s].getState()),
    clusters: live.clusters.state(),
    history: live.reporter.history(),
  };
  tf.dispose([...sd.values()].filter((t) => !(t instanceof tf.Variable)));
  return out;
}

test('snapshot → restore: a run rebuilt from last/ holds the same state and takes the same next step, bit for bit', async () => {
  const tf = await useTestBackend('cpu');
  const dir = tempDir('mic-run-state-');
  const a = await liveRun(1, dir);
  const b = await liveRun(2, tempDir('mic-run-state-b-'));
  try {
    // Run A: two iterations, an epoch logged, the schedule stepped, streams moved, clusters and figures set.
    a.reporter.start();
    trainStep(a);
    trainStep(a);
    a.reporter.logTrain(0, 1.5, 0.75);
    a.reporter.logVal(0, 2, { NMI: 0.5, 'Recall @ 1': 0.625 });
    a.parts.schedule.step(a.parts.optimizer);
    for (const s of STREAMS) a.rngs[s].int(1000);
    a.clusters.restore({ sharedLabels: [2, 0, 1, 1, 0, 2], numClusters: 3, reclusterCounter: 1 });
    a.header.untrained = { NMI: 0.25, 'Recall @ 1': 0.5 };
    const partial: PartialEpoch = {
      epoch: 1,
      iters: 3,
      lossSum: 2.25,
      steps: 6,
      trainSeconds: 4.5,
      startRng: {
        'sampler.class': [1, 2, 3, 4],
        'sampler.shared': [5, 6, 7, 8],
        task: [9, 10, 11, 12],
        'augment.class': [13, 14, 15, 16],
        'augment.shared': [17, 18, 19, 20],
      },
    };
    saveLastCheckpoint(dir, a, 0, partial);

    const saved = everything(a, tf);
    assert.ok(
      Object.values(saved.adam.steps).length > 100 && Object.values(saved.adam.steps).every((n) => n >= 2),
      'Adam moments after two iterations',
    );
    assert.notDeepEqual(everything(b, tf).weights, saved.weights, 'B starts from other weights');
    const last = loadLastCheckpoint(dir)!;
    assert.equal(last.path, path.join(dir, 'last'));
    b.clusters.restore(last.state);
    restoreLastCheckpoint(last, b);
    assert.deepEqual(everything(b, tf), saved);
    assert.deepEqual(last.state.partial, partial);
    assert.deepEqual(last.state.untrained, a.header.untrained);
    assert.equal(last.state.epoch, 0);
    assert.deepEqual(
      fs.readFileSync(path.join(b.reporter.runDir, 'log_val_Class.csv'), 'utf8').trim().split('\n'),
      ['Epochs,Time,NMI,Recall @ 1', '0,2,0.5,0.625'],
      'CSVs rewritten from the history',
    );

    // The next step (miner draws, Adam update with the restored moments and step counts) is the same.
    assert.deepEqual(trainStep(b), trainStep(a));
    assert.deepEqual(everything(b, tf), everything(a, tf));
  } finally {
    for (const live of [a, b]) {
      disposeTrainingParts(live.parts);
      live.model.dispose();
    }
  }
});

test('last/state.json keeps its key order, and a best-model checkpoint holds the header and the choice', async () => {
  await useTestBackend('cpu');
  const dir = tempDir('mic-run-state-');
  const a = await liveRun(3, dir);
  try {
    a.reporter.start();
    a.header.untrained = { NMI: 0.5 };
    saveLastCheckpoint(dir, a, -1, null);
    const state = loadCheckpoint(path.join(dir, 'last')).state;
    assert.deepEqual(Object.keys(state), [
      'format',
      'config',
      'untrained',
      'epoch',
      'rng',
      'sharedLabels',
      'numClusters',
      'reclusterCounter',
      'history',
      'partial',
      'optimizer',
      'schedule',
    ]);
    assert.equal(loadLastCheckpoint(dir)!.state.epoch, -1, 'an interrupted first epoch');

    saveBestCheckpoint(path.join(dir, 'checkpoint_Class'), a, { epoch: 4, chosenOn: 'Recall @ 1', metrics: { Epochs: [4] } });
    const best = loadCheckpoint(path.join(dir, 'checkpoint_Class'));
    assert.deepEqual(best.state, {
      format: 'mic-train',
      config: JSON.parse(JSON.stringify(cfg)),
      untrained: { NMI: 0.5 },
      epoch: 4,
      chosenOn: 'Recall @ 1',
      metrics: { Epochs: [4] },
    });
    assert.equal(best.extraTensors.size, 0);
    assert.ok(best.tensors.has('conv1.weight'));
  } finally {
    disposeTrainingParts(a.parts);
    a.model.dispose();
  }
});

test('readRunState: files from before `untrained` and `partial` existed load; a NaN metric (JSON null) comes back as NaN', () => {
  const old = validRunState();
  delete old.untrained;
  delete old.partial;
  const st = readRunState(old, 'x/state.json');
  assert.equal(st.untrained, undefined);
  assert.equal(st.partial, null);
  assert.deepEqual(st.history.val.NMI, [0.5, NaN]);
  assert.deepEqual(st.sharedLabels, [0, 1, 1]);
  assert.deepEqual(st.optimizer.steps, { 'net.conv1.weight': 8 });
  assert.equal(readRunState({ ...validRunState(), sharedLabels: null }, 'x').sharedLabels, null, 'baseline mode');
});

test('readRunState: a damaged field is a UserError naming the file and the field', () => {
  const damaged: [string, (s: Record<string, unknown>) => void, RegExp][] = [
    ['epoch as text', (s) => (s.epoch = '1'), /'epoch' is not an integer >= -1/],
    ['a stream missing', (s) => delete (s.rng as Record<string, unknown>).miner, /'rng\.miner' is not a generator state/],
    ['a state word out of range', (s) => ((s.rng as Record<string, number[]>).task = [1, 2, 3, 2 ** 32]), /'rng\.task'/],
    ['labels not integers', (s) => (s.sharedLabels = [0, 0.5]), /'sharedLabels' is not a list of integers/],
    ['history without train', (s) => delete (s.history as Record<string, unknown>).train, /'history\.train' is not an object/],
    ['a text metric', (s) => ((s.history as { val: Record<string, unknown[]> }).val.NMI = ['high']), /'history\.val\.NMI\[0\]' is not a number/],
    [
      'partial without its streams',
      (s) => (s.partial = { epoch: 2, iters: 1, lossSum: 0, steps: 0, trainSeconds: 0 }),
      /'partial\.startRng' is not an object/,
    ],
    [
      'a fractional step count',
      (s) => ((s.optimizer as { steps: Record<string, number> }).steps['net.conv1.weight'] = 1.5),
      /'optimizer\.steps\.net\.conv1\.weight'/,
    ],
    ['an unknown schedule', (s) => ((s.schedule as { kind: string }).kind = 'cosine'), /'schedule\.kind' is not step, exp or none/],
  ];
  for (const [what, damage, message] of damaged) {
    const st = validRunState();
    damage(st);
    assert.throws(
      () => readRunState(st, '/runs/a/last/state.json'),
      (e: unknown) => e instanceof UserError && e.message.startsWith('/runs/a/last/state.json: ') && message.test(e.message),
      what,
    );
  }
});

test('loadLastCheckpoint: undefined without last/, and the state of last.old/ after a save cut between its renames', () => {
  const dir = tempDir('mic-run-state-');
  assert.equal(loadLastCheckpoint(dir), undefined);
  saveCheckpoint(path.join(dir, 'last.old'), { tensors: new Map(), extraTensors: new Map(), state: validRunState() });
  const last = loadLastCheckpoint(dir)!;
  assert.equal(last.path, path.join(dir, 'last.old'));
  assert.equal(last.state.epoch, 1);
  fs.writeFileSync(
    path.join(dir, 'last.old', 'state.json'),
    JSON.stringify({ format: 'mic-train-checkpoint', version: 1, state: { ...validRunState(), numClusters: -1 } }),
  );
  assert.throws(
    () => loadLastCheckpoint(dir),
    (e: unknown) => e instanceof UserError && /last\.old\/state\.json: 'numClusters' is not an integer >= 0/.test(e.message),
  );
});
