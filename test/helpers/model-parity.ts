/**
 * Test helper: runs one architecture on its parity fixture and returns the max-abs errors against PyTorch
 * (eval mode, float64 reference) for the pooled feature, the clustering tap and each embedding head.
 */
import * as tf from '@tensorflow/tfjs';
import type { EmbeddingNet } from '../../src/models/embedding-net.ts';
import { HEAD_NAMES } from '../../src/models/embedding-net.ts';
import { loadFixture, loadFixtureWeights, maxAbsError, toNhwc } from './model-fixtures.ts';

export interface ParityErrors {
  pooled: number;
  cluster: number;
  embeds: number[];
  /** Largest |value| of the reference pooled feature, to put the errors in scale. */
  pooledScale: number;
}

export function parityErrors(fixture: string, build: (width: number, embedSizes: number[]) => EmbeddingNet): ParityErrors {
  const fx = loadFixture(fixture);
  const model = build(fx.width, fx.embedSizes);
  const sd = loadFixtureWeights(fx);
  try {
    model.loadStateDict(sd, fx.weightsPath);
    return tf.tidy(() => {
      const x = toNhwc(fx.io.get('input')!);
      const out = model.forward(x);
      const cluster = model.clusterFeatures(x);
      return {
        pooled: maxAbsError(out.pooled, fx.io.get('pooled')!),
        cluster: maxAbsError(cluster, toNhwc(fx.io.get('cluster')!)),
        embeds: out.embeds.map((e, i) => maxAbsError(e, fx.io.get(`embed.${HEAD_NAMES[i]}`)!)),
        pooledScale: tf.max(tf.abs(fx.io.get('pooled')!)).dataSync()[0],
      };
    });
  } finally {
    tf.dispose([...sd.values(), ...fx.io.values()]);
    model.dispose();
  }
}
