/**
 * A real `checkpoint_Class/` folder without a training run: a randomly initialised ResNet50 (seeded) saved
 * the way the trainer saves its best model, so `embed`/`query` can be run against it (and against a second,
 * different one) in seconds.
 */
import { saveCheckpoint } from '../../src/io/checkpoint.ts';
import { buildModel } from '../../src/models/build-model.ts';
import { rngFor } from '../../src/rng.ts';
import { modelTensors } from '../../src/train/checkpointing.ts';
import { useTestBackend } from './tf.ts';

/** Writes a checkpoint of a random ResNet50 (Class/Shared embeddings of 16, 32 px input) into `dir`. */
export async function writeRandomCheckpoint(dir: string, seed: number): Promise<void> {
  await useTestBackend('cpu');
  const config = { arch: 'resnet50' as const, embedSizes: [16, 16], inputSize: 32, pretrainedFormat: 'torchvision' as const };
  const model = await buildModel({ ...config, notPretrained: true, rng: rngFor(seed, 'init') });
  try {
    saveCheckpoint(dir, { tensors: modelTensors(model), extraTensors: new Map(), state: { format: 'mic-train', config, epoch: 0 } });
  } finally {
    model.dispose();
  }
}
