import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClassBalancedSampler, ClusterBalancedSampler, type BatchSpec } from '../../src/data/samplers.ts';
import { setDataWarningSink } from '../../src/data/warnings.ts';
import { Rng } from '../../src/rng.ts';
import { UserError } from '../../src/errors.ts';

/** labels[i] = class of item i: class c has sizes[c] items, items grouped by class. */
function makeLabels(sizes: number[]): Int32Array {
  return Int32Array.from(sizes.flatMap((n, c) => Array<number>(n).fill(c)));
}

/** Class of each block of `per` slots, over the whole epoch in order. */
function blockClasses(batches: BatchSpec[], per: number): number[] {
  return batches.flatMap((b) => Array.from({ length: b.labels.length / per }, (_, k) => b.labels[k * per]));
}

test("ClassBalancedSampler: ⌊N/bs⌋ batches of single-class blocks; labels are the items' labels", () => {
  const labels = makeLabels([5, 7, 3, 9, 6, 4]); // N = 34
  const s = new ClassBalancedSampler(labels, 12, 3, new Rng(1, 'sampler.class'));
  const epoch = s.epoch();
  assert.equal(epoch.length, 2); // ⌊34/12⌋
  for (const b of epoch) {
    assert.equal(b.indices.length, 12);
    for (let i = 0; i < 12; i++) assert.equal(b.labels[i], labels[b.indices[i]]);
    for (let k = 0; k < 12; k += 3) assert.ok(b.labels[k] === b.labels[k + 1] && b.labels[k] === b.labels[k + 2], 'block of one class');
  }
});

test('ClassBalancedSampler: a block never repeats either of the two previous classes, from the first block on', () => {
  const labels = makeLabels([4, 4, 4, 4, 4]);
  const s = new ClassBalancedSampler(labels, 8, 2, new Rng(7));
  for (let e = 0; e < 20; e++) {
    const seq = blockClasses(s.epoch(), 2);
    for (let i = 1; i < seq.length; i++) {
      assert.notEqual(seq[i], seq[i - 1]);
      if (i >= 2) assert.notEqual(seq[i], seq[i - 2]);
    }
  }
});

test('ClassBalancedSampler: block classes are uniform over the allowed ones (5 classes → each ~1/5)', () => {
  const labels = makeLabels([10, 10, 10, 10, 10]);
  const s = new ClassBalancedSampler(labels, 50, 5, new Rng(3));
  const counts = new Array(5).fill(0);
  let total = 0;
  for (let e = 0; e < 400; e++) for (const c of blockClasses(s.epoch(), 5)) (counts[c]++, total++);
  for (const c of counts) assert.ok(Math.abs(c / total - 0.2) < 0.02, `class share ${c / total}`);
});

test('ClassBalancedSampler: deterministic under a seed; independent of previous epochs only through the rng', () => {
  const labels = makeLabels([6, 6, 6, 6]);
  const a = new ClassBalancedSampler(labels, 8, 2, new Rng(11, 'sampler.class'));
  const b = new ClassBalancedSampler(labels, 8, 2, new Rng(11, 'sampler.class'));
  const c = new ClassBalancedSampler(labels, 8, 2, new Rng(12, 'sampler.class'));
  const ea = [a.epoch(), a.epoch()];
  assert.deepEqual(ea, [b.epoch(), b.epoch()]);
  assert.notDeepEqual(ea[0], c.epoch());
  // Resuming from a saved rng state reproduces the next epoch exactly.
  const rng = new Rng(11, 'sampler.class');
  const d = new ClassBalancedSampler(labels, 8, 2, rng);
  d.epoch();
  const saved = rng.getState();
  const next = d.epoch();
  assert.deepEqual(new ClassBalancedSampler(labels, 8, 2, Rng.fromState(saved)).epoch(), next);
});

test('ClassBalancedSampler: two classes alternate, one class fills every block (exclusion shrinks)', () => {
  const two = blockClasses(new ClassBalancedSampler(makeLabels([5, 5]), 8, 2, new Rng(1)).epoch(), 2);
  for (let i = 1; i < two.length; i++) assert.notEqual(two[i], two[i - 1]);
  const one = new ClassBalancedSampler(makeLabels([6]), 4, 2, new Rng(1)).epoch();
  assert.ok(one.every((b) => b.labels.every((l) => l === 0)));
});

test('ClassBalancedSampler: a class smaller than perClass is drawn with replacement and warned once', () => {
  const warnings: string[] = [];
  const prev = setDataWarningSink((w) => warnings.push(w));
  try {
    const labels = makeLabels([1, 8, 8]); // class 0 has one image
    const s = new ClassBalancedSampler(labels, 8, 4, new Rng(2));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /1 training class\(es\) have fewer than --cs_per_bs 4 images \(smallest: 1\)/);
    let seen = false;
    for (let e = 0; e < 20 && !seen; e++) {
      for (const b of s.epoch())
        for (let k = 0; k < 8; k += 4) {
          if (b.labels[k] === 0) {
            assert.deepEqual(Array.from(b.indices.slice(k, k + 4)), [0, 0, 0, 0]);
            seen = true;
          }
        }
    }
    assert.ok(seen, 'class 0 drawn at least once');
    assert.equal(warnings.length, 1);
  } finally {
    setDataWarningSink(prev);
  }
});

test('ClassBalancedSampler perClass=1 (ProxyNCA): plain shuffled batches without repeats, drop_last', () => {
  const labels = makeLabels([3, 4, 5, 6]); // N = 18
  const epoch = new ClassBalancedSampler(labels, 4, 1, new Rng(4)).epoch();
  assert.equal(epoch.length, 4);
  const all = epoch.flatMap((b) => Array.from(b.indices));
  assert.equal(new Set(all).size, 16);
  assert.ok(epoch.every((b) => b.labels.every((l, i) => l === labels[b.indices[i]])));
});

test('samplers: bad batch shapes are UserErrors naming the flag', () => {
  assert.throws(
    () => new ClassBalancedSampler(makeLabels([8, 8]), 10, 4, new Rng(1)),
    (e: unknown) => e instanceof UserError && /--cs_per_bs 4 must divide --bs 10/.test(e.message),
  );
  assert.throws(
    () => new ClassBalancedSampler(makeLabels([2, 2]), 8, 2, new Rng(1)),
    (e: unknown) => e instanceof UserError && /--bs 8 is larger than the 4 training images/.test(e.message),
  );
  assert.throws(() => new ClusterBalancedSampler(makeLabels([8, 8]), 8, 2, 1.5, new Rng(1)), /random_cluster_pick_p/);
});

test('ClusterBalancedSampler: slot label = block cluster; ~p·(1−1/k) of images come from another cluster', () => {
  const k = 5;
  const clusters = makeLabels([40, 40, 40, 40, 40]);
  const p = 0.2;
  const s = new ClusterBalancedSampler(clusters, 20, 4, p, new Rng(9, 'sampler.shared'));
  let slots = 0;
  let foreign = 0;
  for (let e = 0; e < 100; e++) {
    const epoch = s.epoch();
    assert.equal(epoch.length, 10);
    const seq = blockClasses(epoch, 4);
    for (let i = 2; i < seq.length; i++) assert.ok(seq[i] !== seq[i - 1] && seq[i] !== seq[i - 2]);
    for (const b of epoch)
      for (let i = 0; i < 20; i++) {
        assert.equal(b.labels[i], b.labels[i - (i % 4)], 'every slot of a block carries the block cluster');
        slots++;
        if (clusters[b.indices[i]] !== b.labels[i]) foreign++;
      }
  }
  const expected = p * (1 - 1 / k); // 0.16
  assert.ok(Math.abs(foreign / slots - expected) < 0.01, `foreign share ${foreign / slots}`);
  const clean = new ClusterBalancedSampler(clusters, 20, 4, 0, new Rng(9)).epoch();
  assert.ok(clean.every((b) => b.labels.every((l, i) => clusters[b.indices[i]] === l)));
});

test('ClusterBalancedSampler: setLabels applies from the next epoch; empty clusters are never drawn', () => {
  const n = 24;
  const s = new ClusterBalancedSampler(
    new Int32Array(n).map((_, i) => i % 3),
    6,
    2,
    0.5,
    new Rng(2),
  );
  s.epoch();
  const relabelled = new Int32Array(n).map((_, i) => (i < 12 ? 7 : 2)); // clusters 0,1,3..6 empty
  s.setLabels(relabelled);
  for (let e = 0; e < 20; e++) {
    for (const b of s.epoch())
      for (let i = 0; i < 6; i++) {
        assert.ok(b.labels[i] === 7 || b.labels[i] === 2);
        assert.ok(relabelled[b.indices[i]] === 7 || relabelled[b.indices[i]] === 2);
      }
  }
  assert.throws(() => s.setLabels(new Int32Array(5)), /5 labels for 24 items/);
});

test('ClusterBalancedSampler perCluster=1 (ProxyNCA Shared task): each epoch a permutation of all images, labelled with their own cluster', () => {
  const clusters = Int32Array.from([3, 0, 0, 2, 3, 1, 1, 1, 2, 0, 3, 2]); // 12 items, 4 clusters of uneven sizes
  const rng = new Rng(5, 'sampler.shared');
  const s = new ClusterBalancedSampler(clusters, 4, 1, 0.2, rng);
  for (let e = 0; e < 5; e++) {
    const before = rng.getState();
    const epoch = s.epoch();
    assert.equal(epoch.length, 3);
    const all = epoch.flatMap((b) => Array.from(b.indices));
    assert.deepEqual(
      [...all].sort((a, b) => a - b),
      Array.from({ length: 12 }, (_, i) => i),
      'every image exactly once',
    );
    // The draws are exactly one shuffle of the stream (no block, image or random-cluster draws).
    assert.deepEqual(all, Array.from(Rng.fromState(before).permutation(12)));
    for (const b of epoch)
      assert.deepEqual(
        Array.from(b.labels),
        Array.from(b.indices, (i) => clusters[i]),
        "label = the image's own cluster",
      );
  }
  // Re-clustering applies from the next epoch, still one image per slot with its new cluster.
  const relabelled = Int32Array.from(clusters, (c) => (c + 1) % 4);
  s.setLabels(relabelled);
  for (const b of s.epoch())
    assert.deepEqual(
      Array.from(b.labels),
      Array.from(b.indices, (i) => relabelled[i]),
    );
});

test('ClusterBalancedSampler perCluster=1: drop_last, seeded, and resumable from the rng state', () => {
  const clusters = Int32Array.from({ length: 14 }, (_, i) => i % 3);
  const epoch = new ClusterBalancedSampler(clusters, 4, 1, 0.2, new Rng(8)).epoch();
  assert.equal(epoch.length, 3); // ⌊14/4⌋, the 2 left over are dropped
  assert.equal(new Set(epoch.flatMap((b) => Array.from(b.indices))).size, 12, 'no image twice');
  const rng = new Rng(8, 'sampler.shared');
  const s = new ClusterBalancedSampler(clusters, 4, 1, 0.2, rng);
  s.epoch();
  const saved = rng.getState();
  const next = s.epoch();
  assert.deepEqual(new ClusterBalancedSampler(clusters, 4, 1, 0.2, Rng.fromState(saved)).epoch(), next);
  assert.notDeepEqual(
    new ClusterBalancedSampler(clusters, 4, 1, 0.2, new Rng(9, 'sampler.shared')).epoch(),
    new ClusterBalancedSampler(clusters, 4, 1, 0.2, new Rng(8, 'sampler.shared')).epoch(),
  );
});
