/**
 * Side-by-side ResNet50 train step, tfjs (scripts/bench-train.ts) vs PyTorch CPU (scripts/bench-torch.py), same
 * model, batch, input size and thread count: `npm run bench:train:compare -- --size 64 --bs 8 --threads 1`.
 *
 * The two run alternately for --rounds rounds (each round: --reps timed steps after one warm-up step, in a
 * fresh process), so that load from other processes on a shared machine hits both alike; printed are the
 * per-round medians, the median over rounds, and the ratio tfjs / PyTorch (lower is better, target ≤ 2);
 * "forward eval" is tfjs's forward repeated with unchanged weights (evaluation) against PyTorch's forward. With
 * one thread the ratio of step CPU times is the one least disturbed by other processes.
 * Needs Debian's python3-torch (run through /usr/bin/python3, or $MIC_TORCH_PYTHON).
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    size: { type: 'string', default: '64' },
    bs: { type: 'string', default: '8' },
    threads: { type: 'string', default: '1' },
    reps: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '2' },
    'micro-bs': { type: 'string' },
  },
});

interface Result {
  engine: string;
  threads: number;
  forward_s: number;
  /** tfjs only: a second forward with the same weights (evaluation after its first batch); PyTorch's is forward_s. */
  forward_eval_s?: number;
  backward_s: number;
  update_s: number;
  step_s: number;
  step_cpu_s: number;
  img_per_s: number;
  peak_rss_mb: number;
  /** PyTorch only: GFLOP/s of a 512×512 product through its BLAS. */
  blas_gflops?: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const python = process.env.MIC_TORCH_PYTHON ?? '/usr/bin/python3';
const common = ['--size', args.size!, '--bs', args.bs!, '--threads', args.threads!, '--reps', args.reps!, '--json'];

function run(cmd: string, argv: string[], env: NodeJS.ProcessEnv = process.env): Result {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', env, maxBuffer: 64 * 2 ** 20 });
  const line = r.stdout
    ?.trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (r.status !== 0 || !line) {
    throw new Error(`${cmd} ${argv.join(' ')} failed (exit ${r.status}):\n${(r.stderr ?? '').slice(-2000)}`);
  }
  return JSON.parse(line) as Result;
}

function runTfjs(): Result {
  const extra = args['micro-bs'] ? ['--micro-bs', args['micro-bs']] : [];
  return run(process.execPath, ['--import', 'tsx', path.join(here, 'bench-train.ts'), '--backend', args.backend!, ...common, ...extra]);
}

function runTorch(): Result {
  // OMP/MKL threads follow torch.set_num_threads inside the script; pin the env too so nothing oversubscribes.
  const env = { ...process.env, OMP_NUM_THREADS: args.threads, MKL_NUM_THREADS: args.threads, OPENBLAS_NUM_THREADS: args.threads };
  return run(python, [path.join(here, 'bench-torch.py'), ...common], env);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function line(r: Result): string {
  const f = (x: number) => x.toFixed(3).padStart(7);
  return `${r.engine.padEnd(10)} thr ${r.threads}  forward ${f(r.forward_s)}s  backward ${f(r.backward_s)}s  update ${f(r.update_s)}s  step ${f(r.step_s)}s (CPU ${f(r.step_cpu_s)}s)  ${r.img_per_s.toFixed(2).padStart(6)} img/s  RSS ${r.peak_rss_mb.toFixed(0)} MB`;
}

const rounds = Number(args.rounds);
const tfjs: Result[] = [];
const torch: Result[] = [];
console.log(`ResNet50 train step, ${args.size}px, batch ${args.bs}, ${args.threads} thread(s), ${rounds} rounds × ${args.reps} steps`);
for (let i = 0; i < rounds; i++) {
  torch.push(runTorch());
  console.log(`round ${i + 1}  ${line(torch[i])}`);
  const blas = torch[i].blas_gflops;
  if (i === 0 && blas !== undefined && blas < 10) {
    console.log(
      `note: PyTorch's BLAS runs a 512×512 product at ${blas.toFixed(1)} GFLOP/s: the reference BLAS, not OpenBLAS (install ` +
        "libopenblas0, which python3-torch recommends); PyTorch's figures below are meaningless with it",
    );
  }
  tfjs.push(runTfjs());
  console.log(`round ${i + 1}  ${line(tfjs[i])}`);
}
const med = (rs: Result[], k: keyof Result) => median(rs.map((r) => (k === 'forward_eval_s' ? (r.forward_eval_s ?? r.forward_s) : r[k]) as number));
const keys = ['forward_s', 'forward_eval_s', 'backward_s', 'update_s', 'step_s', 'step_cpu_s'] as const;
console.log('median over rounds:');
for (const [name, rs] of [
  ['pytorch', torch],
  ['tfjs', tfjs],
] as const) {
  console.log(`  ${name.padEnd(8)} ` + keys.map((k) => `${k.replace(/_s$/, '').replace('_', ' ')} ${med(rs, k).toFixed(3)}s`).join('  '));
}
console.log('  ratio    ' + keys.map((k) => `${k.replace(/_s$/, '').replace('_', ' ')} ${(med(tfjs, k) / med(torch, k)).toFixed(2)}×`).join('  '));
const spread = (rs: Result[]) => `${Math.min(...rs.map((r) => r.step_s)).toFixed(2)}–${Math.max(...rs.map((r) => r.step_s)).toFixed(2)} s`;
console.log(`  step range over rounds: pytorch ${spread(torch)}, tfjs ${spread(tfjs)}`);
