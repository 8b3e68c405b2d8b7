/**
 * libtensorflow log parsing. The lines follow TensorFlow's own format strings (dso_loader's "Could not load
 * dynamic library '…'; dlerror: …", gpu_device's "Created device … with N MB memory:  -> device: 0, name: …,
 * pci bus id: …, compute capability: …", eager execute's "Executing op … in device …"), with both log prefixes
 * seen in the wild (timestamp + level + file for TF ≤ 2.12, absl's W0000 … for later ones).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isGpuDevice, parseTfLog } from '../../src/backend/tf-log.ts';

test('a CUDA 12 machine with tfjs-node-gpu 4.22: the CUDA 11 libraries it could not open, no GPU device', () => {
  const log = [
    "2024-08-24 22:24:04.039287: W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcudart.so.11.0'; dlerror: libcudart.so.11.0: cannot open shared object file: No such file or directory; LD_LIBRARY_PATH: /usr/local/cuda/lib64:",
    '2024-08-24 22:24:04.039300: I tensorflow/stream_executor/cuda/cudart_stub.cc:29] Ignore above cudart dlerror if you do not have a GPU set up on your machine.',
    "2024-08-24 22:24:05.767399: W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcudnn.so.8'; dlerror: libcudnn.so.8: cannot open shared object file: No such file or directory",
    "2024-08-24 22:24:05.767399: W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcudnn.so.8'; dlerror: libcudnn.so.8: cannot open shared object file: No such file or directory",
    '2024-08-24 22:24:05.767416: W tensorflow/core/common_runtime/gpu/gpu_device.cc:1850] Cannot dlopen some GPU libraries. Please make sure the missing libraries mentioned above are installed properly if you would like to use GPU. Skipping registering GPU devices...',
    '2024-08-24 22:24:05.800000: I tensorflow/core/common_runtime/eager/execute.cc:1345] Executing op MatMul in device /job:localhost/replica:0/task:0/device:CPU:0',
  ].join('\n');
  const f = parseTfLog(log);
  assert.deepEqual(
    f.missingLibraries.map((m) => m.library),
    ['libcudart.so.11.0', 'libcudnn.so.8'],
  );
  assert.equal(f.missingLibraries[0].error, 'libcudart.so.11.0: cannot open shared object file: No such file or directory');
  assert.equal(f.skippedGpu, true);
  assert.deepEqual(f.devices, []);
  assert.deepEqual(f.placements, [{ op: 'MatMul', device: '/job:localhost/replica:0/task:0/device:CPU:0' }]);
  assert.equal(isGpuDevice(f.placements[0].device), false);
});

test('a Hopper GPU: the device with memory and compute capability, PTX compilation, MatMul on the GPU', () => {
  const log = [
    'W0000 00:00:1764044088.195750   20660 gpu_device.cc:2431] TensorFlow was not built with CUDA kernel binaries compatible with compute capability 9.0. CUDA kernels will be jit-compiled from PTX, which could take 30 minutes or longer.',
    'I0000 00:00:1764044088.197440   20660 gpu_device.cc:2020] Created device /job:localhost/replica:0/task:0/device:GPU:0 with 139264 MB memory:  -> device: 0, name: NVIDIA H200, pci bus id: 0000:19:00.0, compute capability: 9.0',
    '2025-01-01 10:00:00.000001: I tensorflow/stream_executor/platform/default/dso_loader.cc:53] Successfully opened dynamic library libcublas.so.11',
    '2025-01-01 10:00:00.100000: I tensorflow/core/common_runtime/eager/execute.cc:1345] Executing op RandomStandardNormal in device /job:localhost/replica:0/task:0/device:GPU:0',
    '2025-01-01 10:00:00.200000: I tensorflow/core/common_runtime/eager/execute.cc:1345] Executing op MatMul in device /job:localhost/replica:0/task:0/device:GPU:0',
    '2025-01-01 10:00:00.300000: I tensorflow/core/common_runtime/eager/execute.cc:1345] Executing op MatMul in device /job:localhost/replica:0/task:0/device:GPU:0',
  ].join('\n');
  const f = parseTfLog(log);
  assert.deepEqual(f.devices, [
    {
      name: '/job:localhost/replica:0/task:0/device:GPU:0',
      memoryMb: 139264,
      gpuName: 'NVIDIA H200',
      pciBusId: '0000:19:00.0',
      computeCapability: '9.0',
    },
  ]);
  assert.deepEqual(f.ptxJit, ['9.0']);
  assert.deepEqual(f.openedLibraries, ['libcublas.so.11']);
  assert.deepEqual(
    f.placements.map((p) => p.op),
    ['RandomStandardNormal', 'MatMul'],
  );
  assert.ok(isGpuDevice(f.placements[1].device));
  assert.equal(f.skippedGpu, false);
});

test('cuInit failures are reported with their CUDA error', () => {
  const f = parseTfLog(
    '2023-03-01 12:00:00.000000: E tensorflow/stream_executor/cuda/cuda_driver.cc:271] failed call to cuInit: CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected\n',
  );
  assert.equal(f.cuInitError, 'CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected');
});
