import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, TransferProgress } from '../../src/io/transfer-progress.ts';

function capture(tty: boolean) {
  const out: string[] = [];
  let t = 0;
  return { out, clock: (ms: number) => (t = ms), o: { stream: { write: (s: string) => out.push(s) }, tty, now: () => t, minIntervalMs: 200 } };
}

test('not a terminal: one line per 10 % step with bytes, MB/s and ETA, then a summary', () => {
  const c = capture(false);
  const p = new TransferProgress('w.bin', 100e6, 0, c.o);
  for (let i = 1; i <= 100; i++) {
    c.clock(i * 10); // 1 MB per 10 ms = 100 MB/s
    p.update(i * 1e6);
  }
  p.finish();
  assert.equal(c.out.length, 10, c.out.join(''));
  assert.equal(c.out[0], 'w.bin: 10% 10.0 MB of 100.0 MB, 100.0 MB/s, ETA 0.9s\n');
  assert.equal(c.out[8], 'w.bin: 90% 90.0 MB of 100.0 MB, 100.0 MB/s, ETA 0.1s\n');
  assert.equal(c.out[9], 'w.bin: 100.0 MB in 1.0s (100.0 MB/s)\n');
});

test("a resumed transfer: the rate counts only this session's bytes; steps start after the resumed point", () => {
  const c = capture(false);
  const p = new TransferProgress('w.bin', 100e6, 45e6, c.o);
  c.clock(1000);
  p.update(49e6); // 4 MB in 1 s
  assert.equal(c.out.length, 0, 'still in the 40 % step');
  c.clock(2000);
  p.update(60e6);
  assert.deepEqual(c.out, ['w.bin: 60% 60.0 MB of 100.0 MB, 7.5 MB/s, ETA 5.3s\n']);
});

test('a terminal: one line rewritten in place, at most every 200 ms', () => {
  const c = capture(true);
  const p = new TransferProgress('w.bin', 10e6, 0, c.o);
  c.clock(100);
  p.update(1e6);
  c.clock(150);
  p.update(2e6); // within 200 ms of the last draw: skipped
  c.clock(400);
  p.update(4e6);
  p.interrupt();
  assert.deepEqual(c.out, [
    '\r\x1b[2Kw.bin: 10% 1.0 MB of 10.0 MB, 10.0 MB/s, ETA 0.9s',
    '\r\x1b[2Kw.bin: 40% 4.0 MB of 10.0 MB, 10.0 MB/s, ETA 0.6s',
    '\n',
  ]);
});

test('formatBytes: decimal units', () => {
  assert.deepEqual([812, 3400, 102_469_840, 1_150_585_339].map(formatBytes), ['812 B', '3.4 kB', '102.5 MB', '1.15 GB']);
});
