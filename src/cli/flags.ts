/**
 * The flag table: every flag of the original `main.py` (docs/porting.md#flags) with its name, type, arity and default,
 * plus mic-train's own flags. The yargs parser, the validation, `--help`, the README's flags table and the
 * defaults test are all generated from this one table. The choices of `--dataset`, `--arch`, `--losses` and
 * `--sampling` are the keys of their registries (read without loading tfjs: docs/architecture.md#extending).
 */
import { DATASETS, DEFAULT_RECALL_K } from '../data/datasets/index.ts';
import { LOSSES, MINERS } from '../losses/registry.ts';
import { ARCHS } from '../models/registry.ts';

export type FlagType = 'string' | 'int' | 'float' | 'boolean';

export interface FlagSpec {
  /** Flag name as typed on the command line (original spelling, snake_case or kebab-case). */
  name: string;
  /** RunConfig field name. */
  key: string;
  type: FlagType;
  /** `nargs='+'` in the original: one or more values, always an array in RunConfig. */
  list?: boolean;
  default: unknown;
  help: string;
  /** Allowed values (for strings, or each list element). */
  choices?: readonly string[];
  /** 'original' = a main.py flag (docs/porting.md#flags); 'port' = added by mic-train. */
  origin: 'original' | 'port';
  /** Numbers must be > 0 ('positive') or >= 0 ('nonneg'); 'prob' = within [0, 1]; 'seed' = 0 … 2³² − 1. */
  range?: 'positive' | 'nonneg' | 'prob' | 'seed';
}

export const BACKENDS = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export const SCHEDULERS = ['step', 'exp', 'none'] as const;
export const ADV_DIRECTIONS = ['Class-Shared', 'Shared-Class'] as const;
export const CLUSTER_MODES = ['mean', 'mstd', 'no_norm'] as const;

/** Short camelCase key for a flag name: `cs_per_bs` → `csPerBs`, `input-size` → `inputSize`. */
export function flagKey(name: string): string {
  return name.replace(/[-_]+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function f(spec: Omit<FlagSpec, 'key'>): FlagSpec {
  return { ...spec, key: flagKey(spec.name) };
}

/** Losses that take no miner, so get plain random batches (one image per class). */
const NON_MINING_LOSSES = Object.entries(LOSSES)
  .filter(([, e]) => !e.mines)
  .map(([name]) => name)
  .join(', ');

/** "online_products 1 10 100 1000; …; others 1 2 4 8" from the dataset registry. */
function recallDefaults(): string {
  const own = Object.entries(DATASETS).flatMap(([name, e]) => ('recallK' in e ? [`${name} ${e.recallK.join(' ')}`] : []));
  return [...own, `others ${DEFAULT_RECALL_K.join(' ')}`].join('; ');
}

export const FLAGS: readonly FlagSpec[] = [
  // ---- original main.py flags (docs/porting.md#flags), same names, types, arity and defaults ----
  f({
    name: 'dataset',
    type: 'string',
    default: 'cub200',
    choices: Object.keys(DATASETS),
    origin: 'original',
    help: 'Dataset to train on; folder = any root/<class>/<img> tree, sample = the embedded demo set.',
  }),
  f({
    name: 'arch',
    type: 'string',
    default: 'resnet50',
    choices: Object.keys(ARCHS),
    origin: 'original',
    help: "Backbone; resnet50 is the paper's. (The original ignored this flag.)",
  }),
  f({
    name: 'not_pretrained',
    type: 'boolean',
    default: false,
    origin: 'original',
    help: 'Start from random weights (torchvision init) instead of ImageNet weights.',
  }),
  f({
    name: 'k_vals',
    type: 'int',
    list: true,
    default: [],
    origin: 'original',
    range: 'positive',
    help: `Recall@k values. Empty = dataset default (${recallDefaults()}).`,
  }),
  f({ name: 'n_epochs', type: 'int', default: 130, origin: 'original', range: 'positive', help: 'Number of training epochs.' }),
  f({
    name: 'kernels',
    type: 'int',
    default: 8,
    origin: 'original',
    range: 'positive',
    help: 'Image-loading concurrency (DataLoader workers in the original).',
  }),
  f({
    name: 'seed',
    type: 'int',
    default: 1,
    origin: 'original',
    range: 'seed',
    help: 'Random seed for every stream (sampling, augmentation, mining, k-means, init); 0 to 4294967295.',
  }),
  f({
    name: 'scheduler',
    type: 'string',
    default: 'step',
    choices: SCHEDULERS,
    origin: 'original',
    help: 'Learning-rate schedule: step (multiply by gamma at each epoch in tau), exp (multiply by gamma every epoch), none.',
  }),
  f({ name: 'gamma', type: 'float', default: 0.3, origin: 'original', range: 'positive', help: 'Learning-rate multiplier for the schedule.' }),
  f({
    name: 'decay',
    type: 'float',
    default: 4e-4,
    origin: 'original',
    range: 'nonneg',
    help: 'Weight decay of the network parameters (L2 added to the gradient, as torch Adam).',
  }),
  f({
    name: 'tau',
    type: 'int',
    list: true,
    default: [80],
    origin: 'original',
    range: 'positive',
    help: 'Epochs at which the step schedule multiplies the learning rate by gamma.',
  }),
  f({
    name: 'task_p',
    type: 'float',
    list: true,
    default: [1, 0.8],
    origin: 'original',
    range: 'prob',
    help: 'Per iteration, probability that the [Class, Shared] task takes an optimisation step.',
  }),
  f({
    name: 'lr',
    type: 'float',
    default: 1e-5,
    origin: 'original',
    range: 'positive',
    help: 'Learning rate of the network and of the adversarial projection network.',
  }),
  f({ name: 'bs', type: 'int', default: 112, origin: 'original', range: 'positive', help: 'Batch size (both tasks and evaluation).' }),
  f({
    name: 'cs_per_bs',
    type: 'int',
    list: true,
    default: [4, 4],
    origin: 'original',
    range: 'positive',
    help: `Images drawn per class (resp. per cluster) in a batch, per task. Must divide bs. Forced to 1 for ${NON_MINING_LOSSES}.`,
  }),
  f({
    name: 'embed_sizes',
    type: 'int',
    list: true,
    default: [128, 128],
    origin: 'original',
    range: 'positive',
    help: 'Embedding dimensions of the [Class, Shared] heads.',
  }),
  f({
    name: 'losses',
    type: 'string',
    list: true,
    default: ['marginloss', 'marginloss'],
    choices: Object.keys(LOSSES),
    origin: 'original',
    help: 'Loss per task.',
  }),
  f({
    name: 'sampling',
    type: 'string',
    list: true,
    default: ['distance', 'distance'],
    choices: Object.keys(MINERS),
    origin: 'original',
    help: `Tuple miner per task (ignored by ${NON_MINING_LOSSES}).`,
  }),
  f({
    name: 'proxy_lr',
    type: 'float',
    list: true,
    default: [1e-5, 1e-5],
    origin: 'original',
    range: 'positive',
    help: 'Learning rate of the ProxyNCA proxies, per task.',
  }),
  f({ name: 'beta', type: 'float', list: true, default: [1.2, 1.2], origin: 'original', help: 'Initial margin-loss class margin beta, per task.' }),
  f({
    name: 'beta_lr',
    type: 'float',
    list: true,
    default: [5e-4, 5e-4],
    origin: 'original',
    range: 'nonneg',
    help: 'Learning rate of beta, per task (no weight decay).',
  }),
  f({
    name: 'nu',
    type: 'float',
    list: true,
    default: [0, 0],
    origin: 'original',
    range: 'nonneg',
    help: 'Beta regularisation weight, per task. Unused, as in the original (kept for compatible run scripts).',
  }),
  f({
    name: 'margin',
    type: 'float',
    list: true,
    default: [0.2, 0.2],
    origin: 'original',
    range: 'nonneg',
    help: 'Margin alpha of the margin loss / margin of the triplet loss, per task.',
  }),
  f({
    name: 'adversarial',
    type: 'string',
    list: true,
    default: ['Class-Shared'],
    choices: ADV_DIRECTIONS,
    origin: 'original',
    help: 'Directions of the adversarial de-correlation loss, as target-source (Class-Shared projects Shared into Class space).',
  }),
  f({
    name: 'adv_weights',
    type: 'float',
    list: true,
    default: [2500],
    origin: 'original',
    range: 'nonneg',
    help: 'Weight of each adversarial direction (one per --adversarial entry; 0 disables).',
  }),
  f({
    name: 'adv_dim',
    type: 'int',
    default: 512,
    origin: 'original',
    range: 'positive',
    help: 'Hidden width of the adversarial projection network.',
  }),
  f({
    name: 'shared_num_classes',
    type: 'int',
    default: 30,
    origin: 'original',
    range: 'positive',
    help: 'Number of k-means clusters = surrogate classes of the Shared task.',
  }),
  f({
    name: 'cluster_update_freq',
    type: 'int',
    default: 3,
    origin: 'original',
    range: 'nonneg',
    help: 'Re-cluster the Shared embeddings after every freq+1 epochs (after epochs 3, 7, 11, ... for 3).',
  }),
  f({
    name: 'cluster_mode',
    type: 'string',
    default: 'mean',
    choices: CLUSTER_MODES,
    origin: 'original',
    help: 'Per-class standardisation before initial clustering: mean (subtract class mean), mstd (also divide by class std). no_norm still centres, as the original.',
  }),
  f({
    name: 'random_cluster_pick_p',
    type: 'float',
    default: 0.2,
    origin: 'original',
    range: 'prob',
    help: 'Shared batches: probability that a slot takes an image of a random cluster while keeping the slot label.',
  }),
  f({
    name: 'gpu',
    type: 'int',
    default: 0,
    origin: 'original',
    range: 'nonneg',
    help: 'GPU index (sets CUDA_VISIBLE_DEVICES before the GPU backend loads).',
  }),
  f({
    name: 'savename',
    type: 'string',
    default: '',
    origin: 'original',
    help: 'Run folder name under <save_path>/<dataset>/. Empty = time-stamped name.',
  }),
  f({
    name: 'make_graph',
    type: 'boolean',
    default: false,
    origin: 'original',
    help: 'Render the network graph (no-op in mic-train, as it silently failed in the original; accepted for compatible run scripts).',
  }),
  f({
    name: 'source_path',
    type: 'string',
    default: 'Datasets',
    origin: 'original',
    help: 'Parent folder of the dataset folders; the dataset name is appended (not needed for --dataset sample).',
  }),
  f({ name: 'save_path', type: 'string', default: 'Training_Results', origin: 'original', help: 'Parent folder of the per-dataset result folders.' }),

  // ---- mic-train additions (docs/porting.md#flags-additions) ----
  f({
    name: 'loss',
    type: 'string',
    default: undefined,
    choices: Object.keys(LOSSES),
    origin: 'port',
    help: 'Alias: one loss for both tasks (sets --losses X X).',
  }),
  f({
    name: 'backend',
    type: 'string',
    default: 'auto',
    choices: BACKENDS,
    origin: 'port',
    help: 'tfjs backend: auto tries tensorflow-gpu, tensorflow, wasm, cpu in that order.',
  }),
  f({
    name: 'input-size',
    type: 'int',
    default: 224,
    origin: 'port',
    range: 'positive',
    help: 'Crop size in pixels; evaluation resizes the shorter side to size*256/224 first. Minimum 32.',
  }),
  f({
    name: 'crop-style',
    type: 'string',
    default: 'torchvision',
    choices: ['torchvision', 'torchvision-0.2'],
    origin: 'port',
    help: "Training crops: torchvision (RandomResizedCrop of torchvision >= 0.3: log-uniform aspect ratio, ratio-clamped fallback) or torchvision-0.2 (the paper's torchvision 0.2.x: uniform aspect ratio, w/h swapped with p = 0.5, centred-square fallback).",
  }),
  f({
    name: 'config',
    type: 'string',
    default: undefined,
    origin: 'port',
    help: "JSON file of flag values (e.g. a run's hypa.json); flags on the command line override it.",
  }),
  f({
    name: 'dry-run',
    type: 'boolean',
    default: false,
    origin: 'port',
    help: 'Validate the flags, print the resolved configuration as JSON, and exit without building anything.',
  }),
  f({
    name: 'pretrained',
    type: 'string',
    default: undefined,
    origin: 'port',
    help: 'Weights file: torchvision-named safetensors, or a tfjs layers model.json with --pretrained-format keras.',
  }),
  f({
    name: 'offline',
    type: 'boolean',
    default: false,
    origin: 'port',
    help: 'Never use the network: missing ImageNet weights are not downloaded (also MIC_TRAIN_OFFLINE=1).',
  }),
  f({
    name: 'pretrained-format',
    type: 'string',
    default: 'torchvision',
    choices: ['torchvision', 'keras'],
    origin: 'port',
    help: 'Format of --pretrained: torchvision (safetensors, RGB mean/std input) or keras (ResNet50 v1, caffe BGR input).',
  }),
  f({
    name: 'margin-count',
    type: 'string',
    default: 'terms',
    choices: ['terms', 'triplets'],
    origin: 'port',
    help: 'Margin-loss normaliser: terms (active positive + active negative terms, paper era) or triplets (triplets with any active term).',
  }),
  f({
    name: 'kmeans-iters',
    type: 'int',
    default: 25,
    origin: 'port',
    range: 'positive',
    help: 'k-means iterations for the surrogate labels (faiss default the original effectively used).',
  }),
  f({
    name: 'kmeans-max-points',
    type: 'int',
    default: 256,
    origin: 'port',
    range: 'positive',
    help: 'k-means for surrogate labels fits on at most this many points per centroid, then assigns all.',
  }),
  f({
    name: 'nmi-average',
    type: 'string',
    default: 'geometric',
    choices: ['geometric', 'arithmetic'],
    origin: 'port',
    help: 'NMI normalisation: geometric (scikit-learn 0.20, paper era) or arithmetic (scikit-learn >= 0.22).',
  }),
  f({
    name: 'val-split',
    type: 'float',
    default: 0,
    origin: 'port',
    range: 'prob',
    help: 'Hold out this fraction of training classes as a class-disjoint validation set that chooses the checkpoint (0 = off, as the original).',
  }),
  f({
    name: 'vehicleid-protocol',
    type: 'string',
    default: 'allvsall',
    choices: ['allvsall', 'reid'],
    origin: 'port',
    help: 'VehicleID evaluation: allvsall (as the original) or reid (one gallery image per identity).',
  }),
  f({
    name: 'split-mode',
    type: 'string',
    default: 'half',
    choices: ['half', 'file'],
    origin: 'port',
    help: 'For --dataset folder: half (first half of the sorted classes train, rest test) or file (root/split.txt lists "<class> train|test").',
  }),
  f({
    name: 'micro-bs',
    type: 'int',
    default: 0,
    origin: 'port',
    range: 'nonneg',
    help: 'Run forward/backward in micro-batches of this size with exact full-batch gradients (0 = automatic).',
  }),
  f({
    name: 'threads',
    type: 'int',
    default: 0,
    origin: 'port',
    range: 'nonneg',
    help: 'Threads for the wasm backend (0 = every core, at most 8; 1 = one thread). Extra threads speed up convolutions and matrix products only on idle cores: on a 2-core machine busy with other jobs, 2 were no faster than 1.',
  }),
  f({ name: 'resume', type: 'string', default: undefined, origin: 'port', help: 'Continue the run in this folder from its last/ checkpoint.' }),
  f({
    name: 'log-every',
    type: 'float',
    default: 30,
    origin: 'port',
    range: 'nonneg',
    help: 'When the output is not a terminal (nohup, Slurm, a log file): seconds between progress lines of training, evaluation and clustering (0 = after every step).',
  }),
  f({
    name: 'max-bad-images',
    type: 'float',
    default: 0.05,
    origin: 'port',
    range: 'prob',
    help: 'Every image is decoded once before training; the run stops when more than this fraction of a split cannot be decoded, or a class has no decodable image. Fewer are left out (listed).',
  }),
];

export const FLAG_BY_NAME: ReadonlyMap<string, FlagSpec> = new Map(FLAGS.map((s) => [s.name, s]));
