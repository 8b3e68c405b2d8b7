import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { drawRecoveries, recoveryLayout, recoveryRows as recoveryRowsFn, RECOVERY_COLOURS, type RecoveryRow } from '../../src/report/recoveries.ts';
import { tempDir } from '../helpers/tmp.ts';

const dir = tempDir('mic-rec-');

/** A solid-colour image file of any size/format (what the dataset would hold). */
async function solid(name: string, rgb: [number, number, number], w: number, h: number): Promise<string> {
  const file = path.join(dir, name);
  await sharp({ create: { width: w, height: h, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).toFile(file);
  return file;
}

const hex = (h: string) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));

test('10 queries × (query + 3 neighbours): expected PNG size, tiles from the files, frames blue / green / red', async () => {
  const tile = 32;
  const grey = await solid('q.png', [128, 128, 128], 40, 30);
  const yellow = await solid('n.jpg', [250, 250, 0], 20, 50);
  const rows: RecoveryRow[] = Array.from({ length: 10 }, (_, r) => ({
    queryPath: grey,
    neighbourPaths: [yellow, yellow, yellow],
    correct: [true, r % 2 === 0, false],
    queryLabel: 'class_a',
    neighbourLabels: ['class_a', r % 2 === 0 ? 'class_a' : 'class_b', 'class_c'],
  }));
  const out = path.join(dir, 'sample_recoveries.png');
  const unreadable = await drawRecoveries(rows, out, { tile });
  assert.deepEqual(unreadable, []);

  const { width, height, cell, frame } = recoveryLayout(10, 4, tile);
  const meta = await sharp(out).metadata();
  assert.equal(meta.format, 'png');
  assert.deepEqual([meta.width, meta.height], [width, height]);
  assert.equal(width, 4 * cell);

  const { data, info } = await sharp(out).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const px = (x: number, y: number) => [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)];
  const near = (a: number[], b: number[], tol = 12) => a.every((v, i) => Math.abs(v - b[i]) <= tol);
  const frameAt = (r: number, c: number) => px(c * cell + Math.floor(frame / 2), r * cell + Math.floor(cell / 2)); // left frame band, mid-height
  const centre = (r: number, c: number) => px(c * cell + Math.floor(cell / 2), r * cell + Math.floor(cell / 2));
  for (let r = 0; r < 10; r++) {
    assert.ok(near(frameAt(r, 0), hex(RECOVERY_COLOURS.query)), `row ${r} query frame ${frameAt(r, 0)}`);
    assert.ok(near(frameAt(r, 1), hex(RECOVERY_COLOURS.correct)), `row ${r} rank 1 frame`);
    const second = r % 2 === 0 ? RECOVERY_COLOURS.correct : RECOVERY_COLOURS.wrong;
    assert.ok(near(frameAt(r, 2), hex(second)), `row ${r} rank 2 frame ${frameAt(r, 2)}`);
    assert.ok(near(frameAt(r, 3), hex(RECOVERY_COLOURS.wrong)), `row ${r} rank 3 frame`);
    assert.ok(near(centre(r, 0), [128, 128, 128]), `row ${r} query tile shows the query image ${centre(r, 0)}`);
    assert.ok(near(centre(r, 2), [250, 250, 0]), `row ${r} neighbour tile shows the neighbour image`);
  }
});

test('an unreadable image becomes a placeholder tile and is reported, not a crash', async () => {
  const ok = await solid('ok.png', [0, 0, 255], 16, 16);
  fs.writeFileSync(path.join(dir, 'broken.jpg'), 'not an image');
  const out = path.join(dir, 'r2.png');
  const bad = await drawRecoveries([{ queryPath: ok, neighbourPaths: [path.join(dir, 'broken.jpg')], correct: [false] }], out, { tile: 24 });
  assert.deepEqual(bad, [path.join(dir, 'broken.jpg')]);
  const meta = await sharp(out).metadata();
  assert.deepEqual([meta.width, meta.height], [2 * recoveryLayout(1, 2, 24).cell, recoveryLayout(1, 2, 24).cell]);
});

test('recoveryRows: queries drawn with replacement from the given stream, self dropped wherever it ranks', async () => {
  const { Rng } = await import('../../src/rng.ts');
  const paths = ['a0', 'a1', 'b0', 'b1'];
  const labels = [0, 0, 1, 1];
  // k = 4 neighbours per query (all-vs-all, so each list holds the query itself); query 1 has a
  // duplicate (a0) ranked before itself, which the original's "drop rank 0" would get wrong.
  const neighbours = Int32Array.from([0, 1, 2, 3, /**/ 0, 1, 3, 2, /**/ 2, 3, 0, 1, /**/ 3, 0, 2, 1]);
  const expected: Record<string, { n: string[]; ok: boolean[] }> = {
    a0: { n: ['a1', 'b0', 'b1'], ok: [true, false, false] },
    a1: { n: ['a0', 'b1', 'b0'], ok: [true, false, false] },
    b0: { n: ['b1', 'a0', 'a1'], ok: [true, false, false] },
    b1: { n: ['a0', 'b0', 'a1'], ok: [false, true, false] },
  };
  const src = { queryPaths: paths, queryLabels: labels, galleryPaths: paths, galleryLabels: labels, neighbours, k: 4, selfIncluded: true };
  const rows = recoveryRowsFn(src, new Rng(5, 'recoveries'), 10, 3);
  const draw = new Rng(5, 'recoveries');
  assert.deepEqual(
    rows.map((r) => r.queryPath),
    Array.from({ length: 10 }, () => paths[draw.int(4)]),
  );
  for (const r of rows) {
    assert.deepEqual(r.neighbourPaths, expected[r.queryPath].n, `neighbours of ${r.queryPath}`);
    assert.deepEqual(r.correct, expected[r.queryPath].ok, `correctness of ${r.queryPath}`);
  }
  assert.ok(new Set(rows.map((r) => r.queryPath)).size < 10, 'with replacement: 10 draws from 4 queries repeat');
});
