// Port of: datasets.py BaseTripletDataset.__getitem__ (docs/porting.md#class-sampler) and ClusterDataset.__getitem__ (docs/porting.md#mic-shared-sampler)
/**
 * Batch samplers. The original drew class-balanced batches inside the Dataset, with per-worker mutable
 * state; here an epoch's batches are drawn up front from one `Rng` stream, so the same seed gives the
 * same batches whatever the loader's concurrency.
 *
 * Checkpoint state: a sampler keeps nothing from one epoch to the next (the "last two classes" memory
 * restarts each epoch, as the original's per-epoch worker copies did); the only state to save is the
 * `Rng` the caller owns and passes in.
 */
import { UserError, assert } from '../errors.ts';
import type { Rng } from '../rng.ts';
import { dataWarn } from './warnings.ts';

/** One batch: indices into the training items, and the label each slot is trained with. */
export interface BatchSpec {
  /** [bs] item indices. */
  indices: Int32Array;
  /** [bs] training labels (class labels, or cluster labels for the Shared task). */
  labels: Int32Array;
}

/** Items grouped by label: `groups[g]` holds the item indices of label `groupLabels[g]` (non-empty groups only). */
interface Grouping {
  groupLabels: Int32Array;
  groups: Int32Array[];
}

function groupByLabel(labels: Int32Array): Grouping {
  const buckets = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    let b = buckets.get(l);
    if (!b) buckets.set(l, (b = []));
    b.push(i);
  }
  const groupLabels = Int32Array.from([...buckets.keys()].sort((a, b) => a - b));
  return { groupLabels, groups: Array.from(groupLabels, (l) => Int32Array.from(buckets.get(l)!)) };
}

/**
 * A group index drawn uniformly from all groups except the most recent ones in `recent` (at most two,
 * fewer when there are only one or two groups so a candidate always remains).
 */
function drawGroupExcludingRecent(rng: Rng, nGroups: number, recent: number[]): number {
  const keep = Math.min(2, nGroups - 1);
  const excluded = keep > 0 ? recent.slice(-keep) : [];
  const distinct = [...new Set(excluded)].sort((a, b) => a - b);
  let pick = rng.int(nGroups - distinct.length);
  // Map the pick onto 0..nGroups-1 skipping the excluded groups (in increasing order).
  for (const e of distinct) if (pick >= e) pick += 1;
  return pick;
}

/**
 * One epoch of block batches: `bs/perGroup` blocks per batch, each labelled with a group drawn uniformly
 * except the last two used; per slot, `slotSource(g)` picks the group the image comes from (drawing what it
 * needs from `rng` first), then an image of that group is drawn with replacement. Draw order per block:
 * group, then per slot the source draws and the image.
 */
function blockBatches(grouping: Grouping, nBatches: number, bs: number, perGroup: number, rng: Rng, slotSource: (g: number) => number): BatchSpec[] {
  const { groups, groupLabels } = grouping;
  const out: BatchSpec[] = [];
  const recent: number[] = [];
  for (let b = 0; b < nBatches; b++) {
    const indices = new Int32Array(bs);
    const labels = new Int32Array(bs);
    for (let start = 0; start < bs; start += perGroup) {
      const g = drawGroupExcludingRecent(rng, groups.length, recent);
      recent.push(g);
      if (recent.length > 2) recent.shift();
      for (let k = 0; k < perGroup; k++) {
        const members = groups[slotSource(g)];
        indices[start + k] = members[rng.int(members.length)];
        labels[start + k] = groupLabels[g];
      }
    }
    out.push({ indices, labels });
  }
  return out;
}

function checkBatchShape(n: number, bs: number, perGroup: number, perGroupFlag: string): void {
  if (!(Number.isInteger(bs) && bs >= 1)) throw new UserError(`--bs: expected a positive integer, got ${bs}`);
  if (!(Number.isInteger(perGroup) && perGroup >= 1)) throw new UserError(`${perGroupFlag}: expected a positive integer, got ${perGroup}`);
  if (bs % perGroup !== 0) throw new UserError(`${perGroupFlag} ${perGroup} must divide --bs ${bs}`);
  if (n < bs) throw new UserError(`--bs ${bs} is larger than the ${n} training images; an epoch would have no batch`);
}

function plainShuffledBatches(labels: Int32Array, bs: number, rng: Rng): BatchSpec[] {
  const order = rng.permutation(labels.length);
  const nBatches = Math.floor(labels.length / bs);
  const out: BatchSpec[] = [];
  for (let b = 0; b < nBatches; b++) {
    const indices = order.slice(b * bs, (b + 1) * bs);
    out.push({ indices, labels: indices.map((i) => labels[i]) });
  }
  return out;
}

/**
 * Class-balanced batches for the Class task (docs/porting.md#class-sampler): ⌊N/bs⌋ batches per epoch; each batch is bs/perClass
 * blocks of `perClass` images of one class (`cs_per_bs`). Each block's class is uniform over all classes
 * except the two used last (fewer excluded when there are < 3 classes); images within a class are drawn
 * uniformly *with* replacement, as the original did. perClass = 1 (ProxyNCA) gives plain shuffled batches
 * (drop_last).
 *
 * Porting note: the original could repeat the previous class in an epoch's first block (single-class
 * batches, NaN at small bs); here the exclusion applies from the first block on (docs/porting.md#class-sampler).
 *
 * Draw order per block: class, then perClass image draws.
 */
export class ClassBalancedSampler {
  private readonly grouping: Grouping;

  /**
   * @param labels [N] class label of each training item.
   * @param bs batch size.
   * @param perClass images per class block (`cs_per_bs[0]`); must divide bs.
   * @param rng the sampler stream (e.g. `rngFor(seed, 'sampler.class')`), owned by the caller.
   */
  constructor(
    private readonly labels: Int32Array,
    private readonly bs: number,
    private readonly perClass: number,
    private readonly rng: Rng,
  ) {
    checkBatchShape(labels.length, bs, perClass, '--cs_per_bs');
    this.grouping = groupByLabel(labels);
    if (perClass > 1) {
      const small = this.grouping.groups.filter((g) => g.length < perClass);
      if (small.length > 0) {
        dataWarn(
          `${small.length} training class(es) have fewer than --cs_per_bs ${perClass} images (smallest: ${Math.min(...small.map((g) => g.length))}); ` +
            'their blocks repeat images (drawn with replacement, as the original)',
        );
      }
    }
  }

  /** Batches per epoch: ⌊N/bs⌋. */
  get batchesPerEpoch(): number {
    return Math.floor(this.labels.length / this.bs);
  }

  /** Draw one epoch of batches. */
  epoch(): BatchSpec[] {
    if (this.perClass === 1) return plainShuffledBatches(this.labels, this.bs, this.rng);
    // Each slot's image comes from the block's own class.
    return blockBatches(this.grouping, this.batchesPerEpoch, this.bs, this.perClass, this.rng, (g) => g);
  }
}

/**
 * Cluster-balanced batches for the Shared task (docs/porting.md#mic-shared-sampler): blocks of `perCluster` slots labelled with the
 * block's cluster; the block cluster is uniform over the non-empty clusters except the last two used.
 * Each slot, with probability `randomPickP` (`random_cluster_pick_p`), takes its image from a uniformly
 * random non-empty cluster (possibly the same), otherwise from the block's cluster; the slot's label is
 * always the block's cluster (deliberate label noise). The trainer loads these images without flip.
 *
 * perCluster = 1 (`cs_per_bs[1]` forced to 1 by ProxyNCA): as the original's cluster dataset, an epoch is a
 * plain shuffle of all training images, each labelled with its own cluster (drop_last): no blocks, no
 * random-cluster substitution, every image once per epoch.
 *
 * Porting note: empty clusters are never drawn (the original would fail on one).
 *
 * Draw order per slot (blocks): random-pick decision, then (if taken) the random cluster, then the image.
 * perCluster = 1: one permutation of the items per epoch.
 */
export class ClusterBalancedSampler {
  private grouping: Grouping;
  private labels: Int32Array;
  private readonly nItems: number;

  /**
   * @param labels [N] cluster label of each training item (surrogate labels from k-means).
   * @param bs batch size.
   * @param perCluster slots per cluster block (`cs_per_bs[1]`); must divide bs.
   * @param randomPickP probability that a slot's image comes from a random cluster.
   * @param rng the sampler stream (e.g. `rngFor(seed, 'sampler.shared')`), owned by the caller.
   */
  constructor(
    labels: Int32Array,
    private readonly bs: number,
    private readonly perCluster: number,
    private readonly randomPickP: number,
    private readonly rng: Rng,
  ) {
    checkBatchShape(labels.length, bs, perCluster, '--cs_per_bs');
    if (!(randomPickP >= 0 && randomPickP <= 1)) {
      throw new UserError(`--random_cluster_pick_p: expected a probability in [0, 1], got ${randomPickP}`);
    }
    this.nItems = labels.length;
    this.labels = Int32Array.from(labels);
    this.grouping = groupByLabel(labels);
  }

  /** Replace the cluster labels (after re-clustering); used from the next `epoch()` on. Same items, same order. */
  setLabels(labels: Int32Array): void {
    assert(labels.length === this.nItems, `ClusterBalancedSampler.setLabels: ${labels.length} labels for ${this.nItems} items`);
    this.labels = Int32Array.from(labels);
    this.grouping = groupByLabel(labels);
  }

  /** Batches per epoch: ⌊N/bs⌋. */
  get batchesPerEpoch(): number {
    return Math.floor(this.nItems / this.bs);
  }

  /** Draw one epoch of batches. */
  epoch(): BatchSpec[] {
    if (this.perCluster === 1) return plainShuffledBatches(this.labels, this.bs, this.rng);
    const nGroups = this.grouping.groups.length;
    // With probability randomPickP a slot's image comes from a random cluster; its label stays the block's.
    return blockBatches(this.grouping, this.batchesPerEpoch, this.bs, this.perCluster, this.rng, (g) =>
      this.rng.bernoulli(this.randomPickP) ? this.rng.int(nGroups) : g,
    );
  }
}
