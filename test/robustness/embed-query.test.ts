/**
 * Issue 14, item 4: `embed` and `query` never answer with garbage. Undecodable images used to be embedded as
 * zero rows (and came back as neighbours at distance 0.0000), a non-image query printed three "neighbours"
 * with exit 0, the warning pointed at a run summary these commands do not have, and a gallery queried with
 * another model's checkpoint was accepted silently.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readGallery } from '../../src/io/gallery.ts';
import { writeRandomCheckpoint } from '../helpers/checkpoint-fixture.ts';
import { assertUserError, runCli, runCliLive, folderDataset } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const dir = tempDir();
const ckA = path.join(dir, 'A');
const ckB = path.join(dir, 'B');
await writeRandomCheckpoint(ckA, 1);
await writeRandomCheckpoint(ckB, 2);
const images = folderDataset(path.join(dir, 'imgs'), ['x', 'y'], 2, '011.Sandal');
const badText = path.join(images, 'x', 'bad.png');
const badEmpty = path.join(images, 'y', 'empty.jpg');
fs.writeFileSync(badText, 'this is not a picture\n');
fs.writeFileSync(badEmpty, '');
const good = path.join(
  images,
  'x',
  fs
    .readdirSync(path.join(images, 'x'))
    .filter((f) => f !== 'bad.png')
    .sort()[0],
);
const gallery = path.join(dir, 'gallery.safetensors');

test('embed leaves undecodable images out and lists them; the gallery records them and the model fingerprint', () => {
  const r = runCli(['embed', '--checkpoint', ckA, '--images', images, '--out', gallery, '--backend', 'cpu']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /embedded 4 images \(16-d\) into .*gallery\.safetensors \(2 undecodable image\(s\) left out\)/);
  assert.match(r.stderr, /left out 2 of 6 image\(s\) that could not be decoded: .*bad\.png.*empty\.jpg|left out 2 of 6 .*empty\.jpg.*bad\.png/);
  assert.doesNotMatch(r.stderr, /run summary/);
  const g = readGallery(gallery);
  assert.equal(g.n, 4);
  assert.ok(!g.paths.includes(badText) && !g.paths.includes(badEmpty), g.paths.join('\n'));
  assert.deepEqual([...g.skipped].sort(), [badText, badEmpty].sort());
  assert.match(g.modelSha256 ?? '', /^[0-9a-f]{64}$/);
  // No zero rows: every embedding is L2-normalised.
  for (let i = 0; i < g.n; i++) {
    const row = g.embeddings.subarray(i * g.dim, (i + 1) * g.dim);
    assert.ok(Math.abs(Math.hypot(...row) - 1) < 1e-4, `row ${i} has norm ${Math.hypot(...row)}`);
  }
});

test('query with an image that cannot be decoded: exit 2 naming it, no neighbours printed', () => {
  for (const q of [badText, path.join(dir, 'missing.png'), images]) {
    const r = runCli(['query', '--gallery', gallery, '--k', '3', '--backend', 'cpu', good, q]);
    assertUserError(r, new RegExp(`query: cannot decode image '${q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'`), q);
    assert.equal(r.stdout, '', 'nothing printed for the good image either');
    assert.doesNotMatch(r.stderr, /run summary/);
  }
});

test('query with the checkpoint of a different model than the gallery is refused', () => {
  const r = runCli(['query', '--gallery', gallery, '--checkpoint', ckB, '--backend', 'cpu', good]);
  assertUserError(r, /--checkpoint '.*B' is not the model that made the gallery/);
  assert.equal(r.stdout, '');
});

test("query with the gallery's own model: the image finds itself first, no undecodable file among the answers", () => {
  const r = runCli(['query', '--gallery', gallery, '--k', '4', '--backend', 'cpu', good]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 5, r.stdout);
  assert.ok(lines[1].includes(good) && /distance 0\.0000/.test(lines[1]), r.stdout);
  assert.doesNotMatch(r.stdout, /bad\.png|empty\.jpg/);
});

test('Ctrl-C during embed says that nothing was written, exits 130, and leaves no output file', async () => {
  const out = path.join(dir, 'interrupted.safetensors');
  let sent = false;
  const r = await runCliLive(['embed', '--checkpoint', ckA, '--images', images, '--out', out, '--backend', 'cpu'], (stderr, child) => {
    if (!sent && /backend:/.test(stderr)) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /mic-train embed: stopped by SIGINT; nothing was written/);
  assert.ok(!fs.existsSync(out));
});
