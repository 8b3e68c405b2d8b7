import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NativeProbe, NvidiaInfo } from '../../src/backend/probe.ts';
import { gpuVerdict, surveyBackends, type SurveyOptions } from '../../src/backend/survey.ts';
import { parseTfLog } from '../../src/backend/tf-log.ts';

const noDriver: NvidiaInfo = { gpus: [], source: 'none' };
const h200: NvidiaInfo = {
  driver: 'NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15',
  gpus: [{ name: 'NVIDIA H200', memory: '143771 MiB', computeCapability: '9.0' }],
  source: 'nvidia-smi',
};

function probe(p: Partial<NativeProbe> & { stderr?: string }): NativeProbe {
  return { pkg: '', gpuHidden: false, loaded: true, log: parseTfLog(p.stderr ?? ''), timedOut: false, seconds: 3, ...p };
}

function survey(
  installed: string[],
  probes: (pkg: string, o: { hideGpu?: boolean }) => NativeProbe,
  nvidia: NvidiaInfo,
  libs: Record<string, string[]>,
) {
  const calls: string[] = [];
  const o: SurveyOptions = {
    versionFn: (pkg) => (installed.includes(pkg) ? '4.22.0' : undefined),
    probeFn: (pkg, opts) => {
      calls.push(`${pkg}${opts.hideGpu ? ' (GPU hidden)' : ''}`);
      return { ...probes(pkg, opts), pkg, gpuHidden: opts.hideGpu ?? false };
    },
    nvidiaFn: () => nvidia,
    librariesFn: () => libs,
  };
  return { s: surveyBackends(o), calls };
}

test('nothing native installed: auto takes wasm, no probe process is started, a GPU request names the package', () => {
  const { s, calls } = survey([], () => assert.fail('no probe expected'), noDriver, { 'libcudart.so': [], 'libcudnn.so': [] });
  assert.deepEqual(calls, []);
  assert.deepEqual(
    s.rows.map((r) => [r.name, r.usable]),
    [
      ['tensorflow-gpu', false],
      ['tensorflow', false],
      ['wasm', true],
      ['cpu', true],
    ],
  );
  assert.equal(s.autoChoice, 'wasm');
  assert.match(gpuVerdict('tensorflow-gpu', s) ?? '', /GPU requested but not used: @tensorflow\/tfjs-node-gpu not installed/);
  assert.equal(gpuVerdict('auto', s), undefined, 'auto without the GPU package is not a GPU request');
  assert.equal(gpuVerdict('wasm', s), undefined);
});

test('tfjs-node-gpu on a CUDA 12 machine: loads on the CPU, says which libraries are missing and what is there', () => {
  const stderr =
    "W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcudart.so.11.0'; dlerror: libcudart.so.11.0: cannot open shared object file: No such file or directory\n";
  const { s, calls } = survey(['@tensorflow/tfjs-node-gpu'], () => probe({ onGpu: false, tfVersion: '2.9.1', stderr }), h200, {
    'libcudart.so': ['libcudart.so.12'],
    'libcudnn.so': ['libcudnn.so.9'],
  });
  assert.deepEqual(calls, ['@tensorflow/tfjs-node-gpu'], 'no CPU comparison when the GPU is not used');
  const row = s.rows[0];
  assert.equal(row.usable, true);
  assert.equal(row.onCpuOnly, true);
  assert.equal(s.autoChoice, 'tensorflow-gpu');
  assert.equal(
    s.gpu.problem,
    'libtensorflow runs on the CPU: libtensorflow 2.9.1 could not open libcudart.so.11.0 (found: libcudart.so.12, libcudnn.so.9)',
  );
  // Installing the GPU package is a GPU request, also under auto.
  assert.match(gpuVerdict('auto', s) ?? '', /^GPU requested but not used: libtensorflow runs on the CPU/);
  assert.ok(s.gpu.lines.some((l) => l.includes('GPU (nvidia-smi): NVIDIA H200, 143771 MiB, compute capability 9.0')));
});

test('a working GPU: device, placement and the matmul speed against the same library with the GPU hidden', () => {
  const stderr = [
    'I0000 gpu_device.cc:2020] Created device /job:localhost/replica:0/task:0/device:GPU:0 with 139264 MB memory:  -> device: 0, name: NVIDIA H200, pci bus id: 0000:19:00.0, compute capability: 9.0',
    'I tensorflow/core/common_runtime/eager/execute.cc:1345] Executing op MatMul in device /job:localhost/replica:0/task:0/device:GPU:0',
  ].join('\n');
  const { s, calls } = survey(
    ['@tensorflow/tfjs-node-gpu'],
    (_pkg, o) =>
      o.hideGpu
        ? probe({ onGpu: false, matmul: { n: 2048, firstMs: 90, ms: 171.8 } })
        : probe({ onGpu: true, tfVersion: '2.9.1', stderr, matmul: { n: 2048, firstMs: 900, ms: 0.5 } }),
    h200,
    { 'libcudart.so': ['libcudart.so.11.0'], 'libcudnn.so': ['libcudnn.so.8'] },
  );
  assert.deepEqual(calls, ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node-gpu (GPU hidden)']);
  assert.equal(s.gpu.problem, undefined);
  assert.equal(gpuVerdict('tensorflow-gpu', s), undefined);
  assert.equal(s.rows[0].why, 'on NVIDIA H200');
  const text = s.gpu.lines.join('\n');
  assert.match(text, /device \/job:localhost\/replica:0\/task:0\/device:GPU:0: NVIDIA H200, 139264 MB, compute capability 9\.0/);
  assert.match(text, /ran MatMul on \/job:localhost\/replica:0\/task:0\/device:GPU:0/);
  // 2·2048³ flop in 0.5 ms = 34360 GFLOP/s; 171.8 / 0.5 = 343.6×.
  assert.match(
    text,
    /2048×2048 matmul: 0\.50 ms \(34360 GFLOP\/s; first call 900 ms\); with the GPU hidden 171\.8 ms \(100 GFLOP\/s\): 343\.6× faster on the GPU/,
  );
});

test('a GPU device but MatMul placed on the CPU is not a healthy GPU', () => {
  const stderr = 'I execute.cc:1345] Executing op MatMul in device /job:localhost/replica:0/task:0/device:CPU:0\n';
  const { s } = survey(['@tensorflow/tfjs-node-gpu'], (_p, o) => probe({ onGpu: !o.hideGpu, stderr }), h200, {});
  assert.equal(s.gpu.problem, 'libtensorflow has a GPU but placed MatMul on /job:localhost/replica:0/task:0/device:CPU:0');
});

test('the package fails to load: not usable, the load error is the reason', () => {
  const { s } = survey(
    ['@tensorflow/tfjs-node-gpu'],
    () => probe({ loaded: false, error: 'The Node.js native addon module (tfjs_binding.node) can not be found' }),
    noDriver,
    {},
  );
  assert.equal(s.rows[0].usable, false);
  assert.equal(s.autoChoice, 'wasm');
  assert.match(gpuVerdict('auto', s) ?? '', /failed to load: The Node\.js native addon module/);
});
