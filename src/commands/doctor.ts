/**
 * `mic-train doctor [--backend B] [--arch A] [--input-size N] [--bs N]`: in about a minute, whether this machine
 * trains where the user thinks it does, and how long the paper's runs would take here. Report on stdout;
 * exit 0 when healthy, else exit 1 with one line on stderr saying why (a GPU asked for but not used, a
 * backend that is not available, a forward/backward that disagrees with the reference).
 */
import { describeProfile } from '../backend/profile.ts';
import { gpuVerdict, surveyBackends, type Survey } from '../backend/survey.ts';
import type { BackendReport } from '../backend/select.ts';
import { FLAG_BY_NAME } from '../cli/flags.ts';
import { ARCHS } from '../models/registry.ts';
import { UserError } from '../errors.ts';
import { checkBackend, commandParser, positiveInt, withBackend, type BackendName } from './common.ts';

interface DoctorArgs {
  backend: BackendName;
  arch: string;
  inputSize?: number;
  bs?: number;
  threads: number;
  gpu?: number;
}

/** Defaults that keep the check near a minute: the paper's size on a GPU, small crops on CPU engines. */
export const DOCTOR_DEFAULTS = {
  gpu: { inputSize: 224, bs: 112 },
  wasm: { inputSize: 64, bs: 8 },
  cpu: { inputSize: 32, bs: 4 },
  nativeCpu: { inputSize: 64, bs: 8 },
} as const;

export function parseDoctorArgs(argv: string[]): DoctorArgs {
  const a = withBackend(
    commandParser(
      argv,
      'mic-train doctor [--backend B] [--arch A] [--input-size N] [--bs N]\n\nChecks the backends of the auto order, the GPU, a forward/backward against the cpu backend, and measures training speed.',
    ),
  )
    .option('arch', { type: 'string', default: 'resnet50', describe: `backbone [choices: ${Object.keys(ARCHS).join(', ')}]` })
    .option('input-size', {
      type: 'string',
      describe: `crop size (default ${DOCTOR_DEFAULTS.gpu.inputSize} on a GPU, ${DOCTOR_DEFAULTS.wasm.inputSize} on wasm, ${DOCTOR_DEFAULTS.cpu.inputSize} on cpu)`,
    })
    .option('bs', {
      type: 'string',
      describe: `batch size, even and at least 4 (default ${DOCTOR_DEFAULTS.gpu.bs} on a GPU, ${DOCTOR_DEFAULTS.wasm.bs} on wasm, ${DOCTOR_DEFAULTS.cpu.bs} on cpu)`,
    })
    .option('threads', { type: 'string', default: String(FLAG_BY_NAME.get('threads')!.default), describe: 'wasm threads, as for training' })
    .option('gpu', { type: 'string', describe: 'GPU index (sets CUDA_VISIBLE_DEVICES), as for training' })
    .parseSync();
  const arch = String(a.arch);
  if (!Object.hasOwn(ARCHS, arch)) throw new UserError(`--arch: unknown value '${arch}'; expected one of: ${Object.keys(ARCHS).join(', ')}`);
  const out: DoctorArgs = { backend: checkBackend(a.backend), arch, threads: Number(a.threads) || 0 };
  if (a['input-size'] !== undefined) {
    out.inputSize = positiveInt('input-size', a['input-size']);
    if (out.inputSize < 32) throw new UserError(`--input-size: at least 32, got ${out.inputSize}`);
  }
  if (a.bs !== undefined) {
    out.bs = positiveInt('bs', a.bs);
    if (out.bs < 4 || out.bs % 2 !== 0) throw new UserError(`--bs: even and at least 4 (two classes of two images or more), got ${out.bs}`);
  }
  if (a.gpu !== undefined) {
    if (!/^\s*\d+\s*$/.test(String(a.gpu))) throw new UserError(`--gpu: expected a GPU index (0, 1, …), got '${String(a.gpu)}'`);
    out.gpu = Number(a.gpu);
  }
  return out;
}

const print = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

function printSurvey(s: Survey, requested: BackendName): void {
  print(`backends (--backend auto tries them in this order):`);
  for (const r of s.rows) {
    const mark = r.name === s.autoChoice ? '  ← auto takes this one' : '';
    const req = requested !== 'auto' && r.name === requested ? '  ← requested' : '';
    print(`  ${r.name.padEnd(15)}${(r.usable ? 'usable' : 'skipped').padEnd(9)}${r.why}${mark}${req}`);
  }
  print('GPU:');
  for (const l of s.gpu.lines) print(`  ${l}`);
}

export async function run(argv: string[]): Promise<number> {
  const args = parseDoctorArgs(argv);
  const started = performance.now();
  print('mic-train doctor');
  const { installedVersion } = await import('../backend/probe.ts');
  const tfjs = await import('@tensorflow/tfjs');
  const versions = [
    `node ${process.versions.node}`,
    `tfjs-core ${tfjs.version_core}`,
    ...['@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'].map(
      (p) => `${p.replace('@tensorflow/', '')} ${installedVersion(p) ?? '—'}`,
    ),
  ];
  print(`versions: ${versions.join(', ')}`);

  const survey = surveyBackends({ gpu: args.gpu });
  printSurvey(survey, args.backend);
  const chosenName = args.backend === 'auto' ? survey.autoChoice : args.backend;
  const chosenRow = survey.rows.find((r) => r.name === chosenName)!;
  const gpuProblem = gpuVerdict(args.backend, survey);
  if (gpuProblem) return unhealthy(gpuProblem);
  if (!chosenRow.usable) return unhealthy(`--backend ${chosenName} is not available: ${chosenRow.why}`);

  const { selectBackend } = await import('../backend/select.ts');
  const backend: BackendReport = await selectBackend(chosenName, { gpu: args.gpu, threads: args.threads });
  if (backend.gpuWarning) return unhealthy(`GPU requested but not used: ${backend.gpuWarning}`);
  const onGpu = backend.device.startsWith('GPU');
  const defaults = onGpu
    ? DOCTOR_DEFAULTS.gpu
    : backend.name === 'wasm'
      ? DOCTOR_DEFAULTS.wasm
      : backend.name === 'cpu'
        ? DOCTOR_DEFAULTS.cpu
        : DOCTOR_DEFAULTS.nativeCpu;
  const size = args.inputSize ?? defaults.inputSize;
  const bs = args.bs ?? defaults.bs;
  const libtf = backend.versions.libtensorflow ? `, libtensorflow ${backend.versions.libtensorflow}` : '';
  print(
    `using: ${backend.name} on ${backend.device} (${backend.threads} thread${backend.threads === 1 ? '' : 's'}${libtf}); profile ${describeProfile(backend.profile)}`,
  );
  print(
    `checking ${args.arch} at ${size} px, batch ${bs}${args.inputSize === undefined || args.bs === undefined ? ' (defaults for this backend; --input-size/--bs to change)' : ''}`,
  );

  const { checkAndMeasure } = await import('../train/backend-check.ts');
  const result = await checkAndMeasure({ arch: args.arch, size, bs, backend, threads: args.threads, print });
  print(`doctor took ${((performance.now() - started) / 1000).toFixed(0)} s`);
  if (!result.parity.pass) {
    return unhealthy(
      `${backend.name} disagrees with ${result.parity.reference}: gradient error ${result.parity.gradError.toExponential(1)} (${result.parity.worst}), embedding error ${result.parity.embedError.toExponential(1)} > ${result.parity.tolerance}`,
    );
  }
  print('healthy');
  return 0;
}

function unhealthy(reason: string): number {
  print('unhealthy');
  process.stderr.write(`mic-train doctor: ${reason}\n`);
  return 1;
}
