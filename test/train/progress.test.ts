import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration } from '../../src/progress.ts';
import { EpochProgress } from '../../src/train/progress.ts';

/** A fake stream that records writes, and a clock the test moves by hand. */
function fakes(isTTY: boolean) {
  const writes: string[] = [];
  let t = 0;
  return {
    writes,
    stream: { isTTY, columns: 200, write: (s: string) => writes.push(s) },
    now: () => t,
    advance: (ms: number) => (t += ms),
  };
}

test('not a TTY: silent during the epoch, then exactly one line with mean loss, img/s and time', () => {
  const f = fakes(false);
  const p = new EpochProgress(2, 10, 4, { stream: f.stream, now: f.now });
  for (const losses of [[1.0, 0.5], [0.25], [], [0.25, 0.0]]) {
    f.advance(500);
    p.tick(16, losses);
  }
  assert.equal(f.writes.length, 0);
  // 5 steps, sum 2.0 → mean 0.4; 64 images in 2 s → 32 img/s.
  const line = p.done('R@1 0.5000');
  assert.deepEqual(f.writes, [line + '\n']);
  assert.equal(line, 'epoch 3/10: 4 it, loss 0.4000, 32.0 img/s, 2.0s, R@1 0.5000');
});

test('TTY: the line is rewritten in place with iteration, loss, img/s and ETA, throttled', () => {
  const f = fakes(true);
  const p = new EpochProgress(0, 2, 10, { stream: f.stream, now: f.now, minIntervalMs: 100 });
  f.advance(1000);
  p.tick(8, [2.0]); // drawn: 1/10 after 1 s → ETA 9 s, 8 img/s
  f.advance(50);
  p.tick(8, [1.0]); // within 100 ms of the last draw: not drawn
  assert.equal(f.writes.length, 1);
  assert.ok(f.writes[0].startsWith('\r\x1b[2K'), 'rewrites the current line');
  assert.match(f.writes[0], /epoch 1\/2 \[##-+\] 1\/10 loss 2\.0000 8\.0 img\/s ETA 9\.0s$/);
  f.advance(100);
  p.tick(8, [0.0]);
  assert.match(f.writes[1], / 3\/10 loss 1\.0000 /);
  const end = p.done();
  assert.ok(f.writes.at(-1)!.endsWith(end + '\n') && f.writes.at(-1)!.startsWith('\r\x1b[2K'));
  assert.equal(f.writes.filter((w) => w.includes('\n')).length, 1, 'only the final line ends with a newline');
});

test('an epoch without any optimisation step logs loss 0, as the original', () => {
  const f = fakes(false);
  const p = new EpochProgress(0, 1, 1, { stream: f.stream, now: f.now });
  p.tick(4, []);
  assert.equal(p.meanLoss(), 0);
});

test('durations read naturally', () => {
  assert.equal(formatDuration(12.34), '12.3s');
  assert.equal(formatDuration(307), '5m07s');
  assert.equal(formatDuration(3723), '1h02m03s');
  assert.equal(formatDuration(NaN), '?');
});
