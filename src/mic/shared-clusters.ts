// Port of: the original's Shared-task label bookkeeping in main.py (docs/porting.md#mic-clustering, docs/porting.md#mic-reclustering)
/**
 * The Shared task's surrogate labels over a whole run, in one object: made once before the first epoch
 * (layer1 features, `initialSurrogateLabels`), re-made from the Shared embeddings when the re-clustering counter
 * says so (`reclusterSharedLabels`), and saved in / restored from `last/`. The clustering input (the training
 * images, the network, batch and input size) is fixed for the run and given once.
 */
import type { Rng } from '../rng.ts';
import { initialSurrogateLabels, reclusterSharedLabels, type ClusteringInputs } from './clustering.ts';
import { countDistinct, ReclusterSchedule } from './surrogate.ts';

/** The JSON-able part of a run's clustering, as `last/` stores it. */
export interface ClusterState {
  /** Shared label of every training item; null in baseline mode (no Shared task). */
  sharedLabels: number[] | null;
  /** Distinct clusters of the initial clustering: the Shared loss's class count and every re-clustering's k. */
  numClusters: number;
  /** The re-clustering counter (`ReclusterSchedule`). */
  reclusterCounter: number;
}

export interface ClusterSettings {
  /** k of the initial clustering (`--shared_num_classes`). */
  k: number;
  iters: number;
  maxPointsPerCentroid: number;
  /** Per-class standardisation before the initial clustering (`--cluster_mode`). */
  mode: 'mean' | 'mstd' | 'no_norm';
  /** `--cluster_update_freq`. */
  updateFreq: number;
  /** A fresh k-means stream: every clustering starts from the same fixed-seed state. */
  kmeansRng: () => Rng;
}

/** What a clustering reports while it runs. */
export interface ClusteringCallbacks {
  onProgress?: (done: number, total: number) => void;
  onWarning?: (message: string) => void;
}

export class SharedClusters {
  /** Current Shared label per training item; null until made (and always in baseline mode). */
  labels: Int32Array | null = null;
  numClusters = 0;
  private readonly schedule: ReclusterSchedule;

  constructor(
    private readonly inputs: Omit<ClusteringInputs, 'onProgress'> & { classLabels: Int32Array },
    private readonly settings: ClusterSettings,
  ) {
    this.schedule = new ReclusterSchedule(settings.updateFreq);
  }

  /** The initial clustering: k-means on the standardised layer1 features of every training image. */
  async makeInitial(cb: ClusteringCallbacks = {}): Promise<Int32Array> {
    const s = this.settings;
    const labels = await initialSurrogateLabels({ ...this.inputs, onProgress: cb.onProgress }, this.inputs.classLabels, s.mode, {
      k: s.k,
      iters: s.iters,
      maxPointsPerCentroid: s.maxPointsPerCentroid,
      rng: s.kmeansRng(),
      onWarning: cb.onWarning,
    });
    this.labels = labels;
    this.numClusters = countDistinct(labels);
    return labels;
  }

  /**
   * Call once after each epoch's evaluation: advances the counter (in baseline mode too, as the original does)
   * and says whether the labels are to be re-made now.
   */
  dueAfterEpoch(): boolean {
    return this.schedule.afterEpoch() && this.labels !== null;
  }

  /** Re-cluster the current Shared embeddings into `numClusters` clusters (the count fixed at the start). */
  async recluster(cb: ClusteringCallbacks = {}): Promise<Int32Array> {
    const s = this.settings;
    const labels = await reclusterSharedLabels(
      { ...this.inputs, onProgress: cb.onProgress },
      {
        k: this.numClusters,
        iters: s.iters,
        maxPointsPerCentroid: s.maxPointsPerCentroid,
        rng: s.kmeansRng(),
        onWarning: cb.onWarning,
      },
    );
    this.labels = labels;
    return labels;
  }

  state(): ClusterState {
    return { sharedLabels: this.labels ? Array.from(this.labels) : null, numClusters: this.numClusters, reclusterCounter: this.schedule.counter };
  }

  /** Continue from a saved state (`--resume`): no clustering is run. */
  restore(st: ClusterState): void {
    this.labels = st.sharedLabels ? Int32Array.from(st.sharedLabels) : null;
    this.numClusters = st.numClusters;
    this.schedule.counter = st.reclusterCounter;
  }
}
