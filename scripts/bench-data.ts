/**
 * `npm run bench:data`: decode + augment throughput of the training image pipeline at 224 px
 * (RandomResizedCrop + flip + ImageNet normalisation into NHWC floats) on 200 synthetic 500×375 JPEGs,
 * with the two decoders of src/data/decode-pool.ts: sharp called from the main thread (1 and 2 images in
 * flight on libuv's pool) and 1 and 2 worker threads. Then runs scripts/bench-data-torch.py (PIL +
 * torchvision in a torch DataLoader with 1 and 2 workers) on the same files if Debian's /usr/bin/python3
 * has torchvision, and prints both and the ratio. Each figure is a pass over the files after a warm-up pass
 * (page cache, worker start-up, JIT), on both sides; the comparison runs in --rounds rounds (default 5) that
 * alternate the two, and the median of the per-round ratios is the result.
 *
 * Options: --images N (default 200), --size S (default 224), --rounds R (default 5), --keep (leave the temp folder).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { IMAGENET_RGB } from '../src/data/image-convention.ts';
import { closeSharedDecoders } from '../src/data/decode-pool.ts';
import { BatchLoader, type LoadedBatch } from '../src/data/loader.ts';
import type { ManifestItem } from '../src/data/manifest.ts';
import type { BatchSpec } from '../src/data/samplers.ts';
import { Rng } from '../src/rng.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Synthetic photo-like JPEGs: smooth gradients, a few shapes and mild noise (so they compress like photos). */
async function makeImages(dir: string, n: number): Promise<string[]> {
  const W = 500;
  const H = 375;
  const rng = new Rng(7, 'bench-images');
  const paths: string[] = [];
  for (let k = 0; k < n; k++) {
    const raw = Buffer.alloc(W * H * 3);
    const [fx, fy, phase] = [rng.uniform(0.005, 0.05), rng.uniform(0.005, 0.05), rng.uniform(0, 6.28)];
    const cx = rng.uniform(0, W);
    const cy = rng.uniform(0, H);
    const r2 = rng.uniform(40, 120) ** 2;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const inside = (x - cx) ** 2 + (y - cy) ** 2 < r2;
        const o = (y * W + x) * 3;
        const base = 128 + 90 * Math.sin(fx * x + phase) * Math.cos(fy * y);
        const noise = (rng.nextU32() & 15) - 8;
        raw[o] = Math.max(0, Math.min(255, (inside ? 230 : base) + noise));
        raw[o + 1] = Math.max(0, Math.min(255, (inside ? 60 : (x * 255) / W) + noise));
        raw[o + 2] = Math.max(0, Math.min(255, (inside ? 40 : (y * 255) / H) + noise));
      }
    }
    const file = path.join(dir, `img_${String(k).padStart(4, '0')}.jpg`);
    await sharp(raw, { raw: { width: W, height: H, channels: 3 } })
      .jpeg({ quality: 90 })
      .toFile(file);
    paths.push(file);
  }
  return paths;
}

function batchSpecs(n: number, bs: number): BatchSpec[] {
  const specs: BatchSpec[] = [];
  for (let s = 0; s + bs <= n; s += bs) specs.push({ indices: new Int32Array(bs).map((_, k) => s + k), labels: new Int32Array(bs) });
  return specs;
}

/**
 * Seconds for one pass over `paths` in batches of 20; `stepMs` > 0 makes the consumer block its thread that
 * long per batch, like a synchronous tfjs training step.
 */
async function pass(paths: string[], size: number, concurrency: number, decoder: 'in-process' | 'workers', stepMs = 0): Promise<number> {
  const items: ManifestItem[] = paths.map((p) => ({ path: p, label: 0, split: 'train' }));
  const loader = new BatchLoader(
    items,
    batchSpecs(paths.length, 20),
    size,
    IMAGENET_RGB,
    { train: true, flip: true },
    new Rng(1, 'augment'),
    concurrency,
    { decoder, recycle: true },
  ); // as the trainer loads
  const t0 = performance.now();
  for await (const _batch of loader as AsyncIterable<LoadedBatch>) {
    const until = performance.now() + stepMs;
    while (performance.now() < until); // busy: the event loop gets no turn
  }
  return (performance.now() - t0) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Images/s of one pass after one that warms the page cache, the workers and the JIT. */
async function loaderRate(paths: string[], size: number, concurrency: number, decoder: 'in-process' | 'workers'): Promise<number> {
  await pass(paths, size, concurrency, decoder);
  return paths.length / (await pass(paths, size, concurrency, decoder));
}

function torchRates(dir: string, size: number): { rates: Record<string, number>; versions: string } | string {
  const python = '/usr/bin/python3';
  if (!fs.existsSync(python)) return `${python} not found`;
  const script = fileURLToPath(new URL('./bench-data-torch.py', import.meta.url));
  try {
    const out = execFileSync(python, [script, dir, '--size', String(size), '--workers', '1', '2', '--passes', '1'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { images_per_s: Record<string, number>; torch: string; torchvision: string; pil: string };
    return { rates: r.images_per_s, versions: `torch ${r.torch}, torchvision ${r.torchvision}, PIL ${r.pil}` };
  } catch (e) {
    return `reference run failed: ${((e as { stderr?: string }).stderr || (e as Error).message).trim().split('\n').pop()}`;
  }
}

async function main(): Promise<void> {
  const nImages = arg('images', 200);
  const size = arg('size', 224);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-bench-data-'));
  try {
    console.log(`bench:data — ${nImages} synthetic 500×375 JPEGs in ${dir}; train transform at ${size} px`);
    console.log(
      `  (${os.cpus().length} CPUs, libuv pool ${process.env.UV_THREADPOOL_SIZE ?? 4}, sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips}, vips threads per image ${sharp.concurrency()})`,
    );
    const paths = await makeImages(dir, nImages);
    const rate: Record<string, Record<number, number>> = { 'in-process': {}, workers: {} };
    for (const decoder of ['in-process', 'workers'] as const) {
      for (const c of [1, 2]) {
        rate[decoder][c] = await loaderRate(paths, size, c, decoder);
        const what = decoder === 'workers' ? `${c} worker thread${c > 1 ? 's' : ' '}` : `main thread, ${c} in flight`;
        console.log(`  mic-train (${what.padEnd(24)}) ${rate[decoder][c].toFixed(1).padStart(7)} images/s`);
      }
    }
    // Overlap with training: the consumer blocks its thread per batch for about the time a batch takes to
    // decode. Ideal per batch: max(step, decode); no overlap: step + decode.
    const decodeMs = (20 / rate.workers[2]) * 1000;
    const subset = paths.slice(0, 100);
    for (const decoder of ['in-process', 'workers'] as const) {
      const perBatch = ((await pass(subset, size, 2, decoder, decodeMs)) / (subset.length / 20)) * 1000;
      console.log(`  with a ${decodeMs.toFixed(0)} ms blocking step per batch of 20, ${decoder}: ${perBatch.toFixed(0)} ms per batch`);
    }
    // The comparison, in rounds that alternate the two (as bench:train:compare does), so that load from other
    // processes on a shared machine hits both alike; each round's ratio uses that round's figures.
    const rounds = arg('rounds', 5);
    const ratios: Record<string, number[]> = { '1': [], '2': [] };
    let versions = '';
    for (let r = 1; r <= rounds; r++) {
      const ours = { '1': await loaderRate(paths, size, 1, 'workers'), '2': await loaderRate(paths, size, 2, 'workers') };
      const ref = torchRates(dir, size);
      if (typeof ref === 'string') {
        console.log(`  PIL + torchvision: not measured (${ref})`);
        await closeSharedDecoders();
        return;
      }
      versions = ref.versions;
      const cols = (['1', '2'] as const).map((w) => {
        ratios[w].push(ours[w] / ref.rates[w]);
        return `${w} thread${w === '1' ? ' ' : 's'}: mic-train ${ours[w].toFixed(0).padStart(4)} vs PIL ${ref.rates[w].toFixed(0).padStart(4)} images/s (${(ours[w] / ref.rates[w]).toFixed(2)}×)`;
      });
      console.log(`  round ${r}  ${cols.join('   ')}`);
    }
    await closeSharedDecoders();
    console.log(`  (PIL side: ${versions}, a torch DataLoader with 1 or 2 worker processes)`);
    for (const w of ['1', '2']) {
      const m = median(ratios[w]);
      console.log(
        `  median ratio, ${w} worker thread(s) vs ${w} DataLoader worker(s): ${m.toFixed(2)}× (target ≥ 2×)${m >= 2 ? '' : '  BELOW TARGET'}`,
      );
    }
  } finally {
    if (!process.argv.includes('--keep')) fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
