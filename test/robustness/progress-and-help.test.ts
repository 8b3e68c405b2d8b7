/**
 * Issue 14, item 10: progress you can see in any log, and help where a first try goes wrong. With output
 * piped (nohup, Slurm) nothing was printed between epoch lines; clustering and evaluation showed no progress
 * (the bar held at "ETA 0.0s"); there was no end-of-run summary; no "did you mean --n_epochs?"; and no
 * arguments at all gave the cub200 "not found" error instead of pointing at `--dataset sample`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runSummaryLines, shellWord } from '../../src/report/end-of-run.ts';
import { PhaseProgress } from '../../src/train/phase-progress.ts';
import { EpochProgress } from '../../src/train/progress.ts';
import { assertUserError, runCli, folderDataset } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

function fakes(isTTY: boolean) {
  const writes: string[] = [];
  let t = 0;
  return { writes, stream: { isTTY, columns: 200, write: (s: string) => writes.push(s) }, now: () => t, advance: (ms: number) => (t += ms) };
}

test('not a TTY: a progress line every --log-every seconds with iteration, loss, img/s and the ETA of the epoch and the run', () => {
  const f = fakes(false);
  // Epoch 3 of 10, 100 iterations of 8 images, 1 s each; whole epochs so far took 150 s.
  const p = new EpochProgress(2, 10, 100, { stream: f.stream, now: f.now, logEverySeconds: 30 }, { laterEpochs: 7, secondsPerEpoch: 150 });
  for (let i = 0; i < 65; i++) {
    f.advance(1000);
    p.tick(8, [0.5]);
  }
  assert.deepEqual(f.writes, [
    // after 30 s: 30 it done, 70 left at 1 s/it; then 7 epochs × 150 s.
    'epoch 3/10: iteration 30/100, loss 0.5000, 8.0 img/s, ETA epoch 1m10s, run 18m40s\n',
    'epoch 3/10: iteration 60/100, loss 0.5000, 8.0 img/s, ETA epoch 40.0s, run 18m10s\n',
  ]);
  // Before any whole epoch: later epochs are estimated from this epoch's training pace (100 s each).
  const g = fakes(false);
  const q = new EpochProgress(0, 3, 10, { stream: g.stream, now: g.now, logEverySeconds: 0 }, { laterEpochs: 2 });
  g.advance(2000);
  q.tick(4, [1]);
  assert.deepEqual(g.writes, ['epoch 1/3: iteration 1/10, loss 1.0000, 2.0 img/s, ETA epoch 18.0s, run 58.0s\n']);
});

test('passes over images (image check, clustering, evaluation) show progress: in place on a TTY, a line per interval in a log', () => {
  const log = fakes(false);
  const p = new PhaseProgress('initial clustering', 1000, { stream: log.stream, now: log.now, logEverySeconds: 30 });
  for (let done = 100; done <= 1000; done += 100) {
    log.advance(10_000);
    p.update(done);
  }
  p.end();
  assert.deepEqual(log.writes, [
    'initial clustering: 300/1000 images, 10.0 img/s, ETA 1m10s\n',
    'initial clustering: 600/1000 images, 10.0 img/s, ETA 40.0s\n',
    'initial clustering: 900/1000 images, 10.0 img/s, ETA 10.0s\n',
  ]);
  const tty = fakes(true);
  const e = new PhaseProgress('epoch 2/5 evaluation', 50, { stream: tty.stream, now: tty.now });
  tty.advance(1000);
  e.update(10);
  tty.advance(1000);
  e.update(20);
  e.end();
  assert.deepEqual(tty.writes, [
    '\r\x1b[2Kepoch 2/5 evaluation: 10/50 images, 10.0 img/s, ETA 4.0s',
    '\r\x1b[2Kepoch 2/5 evaluation: 20/50 images, 10.0 img/s, ETA 3.0s',
    '\r\x1b[2K',
  ]);
});

test('the end-of-run summary: best Recall@1 and its epoch (1-based), where that model is, and the embed command', () => {
  const val = { Epochs: [0, 1, 2, 3], Time: [1, 1, 1, 1], 'Recall @ 1': [0.2, 0.5, 0.5, 0.4], 'Val Recall @ 1': [0.1, 0.3, 0.6, 0.2] };
  assert.deepEqual(runSummaryLines({ runDir: '/r/run', val, chosen: [{ column: 'Recall @ 1', folder: 'checkpoint_Class' }], seconds: 125 }), [
    'finished 4 epoch(s) (this session 2m05s); results in /r/run',
    'best Recall@1 0.500 at epoch 2; that model is in /r/run/checkpoint_Class',
    'next: npx mic-train embed --checkpoint /r/run/checkpoint_Class --images YOUR_IMAGES/ --out gallery.safetensors',
  ]);
  const withVal = runSummaryLines({ runDir: '/r/my run', val, chosen: [{ column: 'Val Recall @ 1', folder: 'checkpoint_Class' }], seconds: 1 });
  assert.equal(withVal[1], 'best Val Recall@1 0.600 at epoch 3, test Recall@1 0.500; that model is in /r/my run/checkpoint_Class');
  assert.match(withVal[2], /--checkpoint '\/r\/my run\/checkpoint_Class' /);
  assert.equal(shellWord("it's"), `'it'\\''s'`);
});

test('a piped 2-epoch run prints progress lines in training, clustering and evaluation, then the summary', () => {
  const dir = tempDir();
  const ds = path.join(dir, 'ds');
  const sources = ['001.Tshirt_top', '002.Trouser', '006.Digit_zero', '011.Sandal', '016.Digit_five', '017.Digit_six'];
  ['a1', 'a2', 'a3', 'b1', 'b2', 'b3'].forEach((c, i) => folderDataset(ds, [c], 8, sources[i]));
  const r = runCli(
    [
      '--dataset',
      'folder',
      '--source_path',
      ds,
      '--save_path',
      path.join(dir, 'out'),
      ...'--savename r --not_pretrained --backend wasm --input-size 32 --bs 8 --n_epochs 2 --shared_num_classes 3 --cluster_update_freq 0 --kernels 1 --log-every 0'.split(
        ' ',
      ),
    ],
    { timeoutMs: 400_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stderr.split('\n');
  for (const re of [
    /^image check: 48 files decoded in /,
    /^initial clustering: \d+\/24 images/,
    /^epoch 1\/2: iteration 1\/3, loss \d\.\d{4}, [\d.]+ img\/s, ETA epoch \S+, run \S+$/,
    /^epoch 1\/2 evaluation: \d+\/24 images/,
    /^epoch 1\/2 re-clustering: \d+\/24 images/,
    /^epoch 2\/2: iteration 2\/3, /,
  ]) {
    assert.ok(
      lines.some((l) => re.test(l)),
      `${re}\n${r.stderr}`,
    );
  }
  assert.doesNotMatch(r.stderr, /\r|\x1b\[/, 'no terminal control characters in a log');
  const runDir = path.join(dir, 'out', 'folder', 'r');
  assert.match(r.stderr, new RegExp(`finished 2 epoch\\(s\\) \\(this session \\S+\\); results in ${runDir}\\n`));
  const best = /best Recall@1 (\d\.\d{3}) at epoch (\d); that model is in (\S+)\n/.exec(r.stderr);
  assert.ok(best, r.stderr);
  assert.equal(best[3], path.join(runDir, 'checkpoint_Class'));
  // The epoch named is the one whose line printed that value (1-based, like the progress lines).
  assert.match(r.stderr, new RegExp(`epoch ${best[2]}/2: 3 it, .*Recall @ 1 ${best[1]}`));
  assert.match(r.stderr, new RegExp(`next: npx mic-train embed --checkpoint ${best[3]} --images YOUR_IMAGES/ --out gallery.safetensors`));
  assert.ok(fs.existsSync(path.join(best[3], 'model.safetensors')));
});

test('--help lists the sub-commands; a mistyped flag gets the closest one', () => {
  const help = runCli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /- embed: /);
  assert.match(help.stdout, /- query: /);
  assert.match(help.stdout, /--log-every/);
  assertUserError(runCli(['--n_epoch', '3']), /^mic-train: unknown flag --n_epoch; did you mean --n_epochs\? \(mic-train --help lists them\)$/);
  assertUserError(runCli(['--input_size', '64']), /unknown flag --input_size; did you mean --input-size\?/);
  assertUserError(runCli(['--frobnicate']), /^mic-train: unknown flag --frobnicate \(mic-train --help lists them\)$/);
  assertUserError(
    runCli(['embed', '--chekpoint', 'x', '--images', 'y', '--out', 'z.npy']),
    /unknown flag --chekpoint; did you mean --checkpoint\? \(mic-train embed --help lists them\)/,
  );
});

test('no arguments and no Datasets/cub200: a short hint to try --dataset sample', () => {
  const r = runCli([], { cwd: tempDir() });
  assertUserError(r, /no options given, and the default dataset \(Datasets\/cub200\) is not here\. New here\? Try `npx mic-train --dataset sample`/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
