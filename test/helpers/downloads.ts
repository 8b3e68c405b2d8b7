/**
 * End-to-end helpers for `download`, `prepare` and automatic weights (run the CLI with `runCliLive` from `cli.ts`, so
 * the test's own HTTP server keeps answering): a CUB_200_2011.tgz cut from the committed sample images, a
 * ResNet50-shaped safetensors file made from the model's own (random) state dict, and a sources table file.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { serializeSafetensors, type TensorMap } from '../../src/io/safetensors.ts';
import { ARCH as RESNET50 } from '../../src/models/resnet50.ts';
import { Rng } from '../../src/rng.ts';
import { tgzBytes, type ArchiveMember } from './archives.ts';
import { SAMPLE } from './cli.ts';
import { useTestBackend } from './tf.ts';

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** CUB_200_2011.tgz as Caltech ships it (CUB_200_2011/images/<NNN.Name>/…, metadata, a top-level file), from sample classes. */
export function cubArchive(classes: string[], perClass: number, extra: ArchiveMember[] = []): Buffer {
  const members: ArchiveMember[] = [
    { name: 'attributes.txt', data: '1 has_bill_shape::curved\n' },
    { name: 'CUB_200_2011/', dir: true },
  ];
  classes.forEach((cls, i) => {
    members.push({ name: `CUB_200_2011/images/${cls}/`, dir: true });
    for (const f of fs.readdirSync(path.join(SAMPLE, cls)).sort().slice(0, perClass)) {
      members.push({ name: `CUB_200_2011/images/${cls}/${f}`, data: fs.readFileSync(path.join(SAMPLE, cls, f)) });
    }
    members.push({ name: 'CUB_200_2011/classes.txt', data: `${i + 1} ${cls}\n` });
  });
  return tgzBytes([...members, ...extra]);
}

/** A ResNet50 safetensors file with torchvision names and shapes: the model's own randomly initialised backbone. */
export async function resnet50Safetensors(): Promise<Buffer> {
  await useTestBackend('cpu');
  const model = RESNET50.build({ embedSizes: [128, 128], rng: new Rng(11), randomBackbone: true });
  const sd = model.stateDict();
  const tensors: TensorMap = new Map();
  for (const [name, t] of sd) {
    if (!name.startsWith('last_linear')) tensors.set(name, { dtype: 'float32', shape: t.shape, data: t.dataSync() as Float32Array });
    t.dispose();
  }
  model.dispose();
  tf.disposeVariables();
  return serializeSafetensors(tensors, { note: 'random ResNet50 for the download tests' });
}

export interface TestItem {
  key: string;
  kind: 'weights' | 'dataset';
  url: string;
  data: Buffer;
  /** Override the checksum (e.g. a wrong one). */
  sha256?: string;
}

/** Writes a sources table for the test server; returns its path. */
export function writeSources(file: string, items: TestItem[]): string {
  const json = {
    items: Object.fromEntries(
      items.map((i) => [
        i.key,
        {
          kind: i.kind,
          ...(i.kind === 'weights' ? { arch: i.key } : { unpack: [{ from: 'CUB_200_2011/', to: '' }] }),
          title: `test ${i.key}`,
          license: 'test data',
          lands_in: i.kind === 'weights' ? `weights/${i.key}.safetensors` : `Datasets/${i.key}/`,
          file: {
            name: path.basename(new URL(i.url).pathname),
            urls: [i.url],
            size: i.data.length,
            sha256: i.sha256 ?? sha256(i.data),
            checksum_source: 'made by the test',
          },
        },
      ]),
    ),
  };
  fs.writeFileSync(file, JSON.stringify(json, null, 2));
  return file;
}
