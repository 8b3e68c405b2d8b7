/** A valid `last/` state for tests that need one without training (the shape `train/run-state.ts` writes). */
import { STREAMS } from '../../src/train/run-state.ts';

export function validRunState(): Record<string, unknown> {
  return {
    format: 'mic-train',
    config: {},
    untrained: { NMI: 0.5 },
    epoch: 1,
    rng: Object.fromEntries(STREAMS.map((s, i) => [s, [i, 1, 2, 3]])),
    sharedLabels: [0, 1, 1],
    numClusters: 2,
    reclusterCounter: 0,
    history: { train: { Epochs: [0, 1], Time: [1, 1], 'Train Loss': [0.5, 0.4] }, val: { Epochs: [0, 1], Time: [2, 2], NMI: [0.5, null] } },
    partial: null,
    optimizer: { groups: [{ name: 'network', baseLr: 1e-5, lr: 1e-5, weightDecay: 4e-4 }], steps: { 'net.conv1.weight': 8 } },
    schedule: { kind: 'step', epochsDone: 2 },
  };
}
