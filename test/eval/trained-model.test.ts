import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../src/errors.ts';
import { checkpointModelConfig } from '../../src/eval/trained-model.ts';

const config = { arch: 'resnet50', embedSizes: [128, 128], inputSize: 224, pretrainedFormat: 'keras', lr: 1e-5, dataset: 'cub200' };

test("checkpointModelConfig takes the network settings from a checkpoint state's run configuration", () => {
  assert.deepEqual(checkpointModelConfig({ format: 'mic-train', config, epoch: 3 }, 'ck'), {
    arch: 'resnet50',
    embedSizes: [128, 128],
    inputSize: 224,
    pretrainedFormat: 'keras',
  });
  const { pretrainedFormat: _, ...noFormat } = config;
  assert.equal(checkpointModelConfig({ config: noFormat }, 'ck').pretrainedFormat, 'torchvision', 'a state without the format: torchvision');
});

test('checkpointModelConfig: a state without a usable configuration is a UserError naming the folder', () => {
  for (const state of [
    {},
    { config: null },
    { config: 'resnet50' },
    { config: { ...config, inputSize: 22.5 } },
    { config: { ...config, embedSizes: ['128'] } },
    { config: { ...config, arch: 50 } },
  ]) {
    assert.throws(
      () => checkpointModelConfig(state, '/runs/a/checkpoint_Class'),
      (e: unknown) => e instanceof UserError && /^\/runs\/a\/checkpoint_Class: checkpoint has no usable run configuration/.test(e.message),
      JSON.stringify(state),
    );
  }
});
