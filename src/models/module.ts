// Port of: torch.nn.Module's named parameters/buffers, state_dict() and load_state_dict(strict=True) (docs/porting.md#backbones)
/**
 * `Module`: a flat registry of named `tf.Variable`s under dotted torchvision names (`layer1.0.conv1.weight`,
 * `bn1.running_mean`). The names are a file format: checkpoints and ImageNet weights use them unchanged, so a
 * PyTorch user can read our files and we can read theirs.
 *
 * Layout: tensors are stored the way tfjs computes with them (conv HWIO, linear [in, out]) and converted at
 * the state-dict boundary to PyTorch's layout (conv OIHW, linear [out, in]). Buffers (BN running statistics)
 * are non-trainable variables: never handed to an optimizer and never written by training.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError, assert } from '../errors.ts';
import type { Rng } from '../rng.ts';

/** How a tensor's layout here differs from PyTorch's. */
export type Layout = 'conv' | 'linear' | 'plain';

export interface ParamEntry {
  /** Dotted torchvision-style name. */
  readonly name: string;
  readonly variable: tf.Variable;
  readonly layout: Layout;
  /** false for buffers (BN running mean/var). */
  readonly trainable: boolean;
}

/** PyTorch shape of a tensor stored here with `layout` (HWIO → OIHW, [in,out] → [out,in]). */
export function torchShape(shape: readonly number[], layout: Layout): number[] {
  if (layout === 'conv') return [shape[3], shape[2], shape[0], shape[1]];
  if (layout === 'linear') return [shape[1], shape[0]];
  return [...shape];
}

/** Our layout → PyTorch layout (new tensor). */
export function toTorchLayout(t: tf.Tensor, layout: Layout): tf.Tensor {
  if (layout === 'conv') return tf.transpose(t, [3, 2, 0, 1]);
  if (layout === 'linear') return tf.transpose(t, [1, 0]);
  return tf.clone(t);
}

/** PyTorch layout → our layout (new tensor). */
export function fromTorchLayout(t: tf.Tensor, layout: Layout): tf.Tensor {
  if (layout === 'conv') return tf.transpose(t, [2, 3, 1, 0]);
  if (layout === 'linear') return tf.transpose(t, [1, 0]);
  return tf.clone(t);
}

/** Options for partial loads (pretrained backbones). */
export interface LoadOptions {
  /** Names in the file that are dropped without complaint (an ImageNet classifier). */
  ignoreUnexpected?: (name: string) => boolean;
  /** Model names that may be absent from the file and keep their current value. */
  allowMissing?: (name: string) => boolean;
  /** Model names never taken from the file, present or not (the embedding heads of a pretrained load). */
  keep?: (name: string) => boolean;
}

/** Builder handle for one dotted prefix: layers register their tensors through it. */
export class Scope {
  constructor(
    private readonly module: Module,
    readonly prefix: string,
    /** Source of random initial values; null = fill with zeros/ones because weights will be loaded. */
    readonly rng: Rng | null,
  ) {}

  /** Full dotted name of `leaf` under this scope. */
  path(leaf: string): string {
    return this.prefix ? `${this.prefix}.${leaf}` : leaf;
  }

  child(name: string | number): Scope {
    return new Scope(this.module, this.path(String(name)), this.rng);
  }

  /** Same names, different initialiser source. */
  withRng(rng: Rng | null): Scope {
    return new Scope(this.module, this.prefix, rng);
  }

  /** Registers `value` (ownership passes to the module) as `prefix.leaf`. */
  register(leaf: string, value: tf.Tensor, layout: Layout, trainable: boolean): tf.Variable {
    return this.module.registerTensor(this.path(leaf), value, layout, trainable);
  }

  /** Run `fn` when the module is disposed (layers that keep derived tensors free them here). */
  onDispose(fn: () => void): void {
    this.module.addDisposer(fn);
  }
}

const LIST_LIMIT = 8;

/**
 * BatchNorm2d's `num_batches_tracked` counter, present in every state dict PyTorch writes. It only matters for
 * BN momentum=None in training mode, never for frozen BN, so files may have it and ours omit it (PyTorch fills
 * it in on load).
 */
const BN_COUNTER = '.num_batches_tracked';

function listNames(names: string[]): string {
  const head = names.slice(0, LIST_LIMIT).join(', ');
  return names.length > LIST_LIMIT ? `${head}, … and ${names.length - LIST_LIMIT} more` : head;
}

/** A network's tensor registry plus the state-dict contract of `EmbeddingModel`. */
export class Module {
  private readonly entries = new Map<string, ParamEntry>();
  private readonly disposers: (() => void)[] = [];
  private disposed = false;

  /** Root scope for building; `rng` null means the tensors are placeholders to be loaded. */
  protected rootScope(rng: Rng | null): Scope {
    return new Scope(this, '', rng);
  }

  /** Called by `Scope.register`. Names must be unique. */
  registerTensor(name: string, value: tf.Tensor, layout: Layout, trainable: boolean): tf.Variable {
    assert(!this.entries.has(name), `duplicate parameter name ${name}`);
    // tfjs variable names are global; leave them unnamed so several models can coexist in one process.
    const variable = tf.variable(value, trainable);
    value.dispose();
    this.entries.set(name, { name, variable, layout, trainable });
    return variable;
  }

  /** All registered tensors in registration order. */
  parameters(): ParamEntry[] {
    return [...this.entries.values()];
  }

  trainableVariables(): tf.Variable[] {
    return this.parameters()
      .filter((e) => e.trainable)
      .map((e) => e.variable);
  }

  /** Number of scalars in trainable tensors (PyTorch's `sum(p.numel() for p in parameters())`), filtered by name. */
  parameterCount(include: (name: string) => boolean = () => true): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.trainable && include(e.name)) n += e.variable.size;
    return n;
  }

  /** Every tensor under its torchvision name, in PyTorch layout. New tensors: the caller disposes them. */
  stateDict(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const e of this.entries.values()) out.set(e.name, toTorchLayout(e.variable, e.layout));
    return out;
  }

  /**
   * Assigns tensors given in PyTorch layout. Strict: every problem (missing, unexpected, wrong shape or dtype)
   * is collected and reported in one UserError naming `source`; nothing is assigned unless all names check out.
   * `*.num_batches_tracked` entries are accepted and ignored.
   * The caller keeps ownership of `sd`.
   */
  loadStateDict(sd: Map<string, tf.Tensor>, source = 'state dict', opts: LoadOptions = {}): void {
    assert(!this.disposed, 'loadStateDict on a disposed model');
    const missing: string[] = [];
    const unexpected: string[] = [];
    const mismatched: string[] = [];
    const kept = (name: string) => opts.keep?.(name) ?? false;
    for (const e of this.entries.values()) {
      if (kept(e.name)) continue;
      const t = sd.get(e.name);
      if (!t) {
        if (!opts.allowMissing?.(e.name)) missing.push(e.name);
        continue;
      }
      const want = torchShape(e.variable.shape, e.layout);
      if (t.dtype !== 'float32') {
        mismatched.push(`${e.name} dtype ${t.dtype}, expected float32`);
      } else if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
        mismatched.push(`${e.name} [${t.shape.join(',')}] in file, model has [${want.join(',')}]`);
      }
    }
    for (const name of sd.keys()) {
      if (this.entries.has(name) || kept(name) || name.endsWith(BN_COUNTER) || opts.ignoreUnexpected?.(name)) continue;
      unexpected.push(name);
    }
    if (missing.length || unexpected.length || mismatched.length) {
      const parts: string[] = [];
      if (missing.length) parts.push(`missing ${missing.length}: ${listNames(missing)}`);
      if (unexpected.length) parts.push(`unexpected ${unexpected.length}: ${listNames(unexpected)}`);
      if (mismatched.length) parts.push(`mismatched ${mismatched.length}: ${listNames(mismatched)}`);
      throw new UserError(`${source}: weights do not fit this network (${parts.join('; ')})`);
    }
    for (const e of this.entries.values()) {
      const t = sd.get(e.name);
      if (!t || kept(e.name)) continue;
      const converted = fromTorchLayout(t, e.layout);
      e.variable.assign(converted);
      converted.dispose();
    }
  }

  /** See `Scope.onDispose`. */
  addDisposer(fn: () => void): void {
    this.disposers.push(fn);
  }

  dispose(): void {
    if (this.disposed) return;
    for (const fn of this.disposers) fn();
    for (const e of this.entries.values()) e.variable.dispose();
    this.disposed = true;
  }
}
