import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DATASETS } from '../../src/data/datasets/index.ts';
import { UserError } from '../../src/errors.ts';
import { cacheDir, loadSources, offlineByEnv, readSources, sourceItem, weightsItemFor, DEFAULT_SOURCES } from '../../src/io/sources.ts';
import { torchShape } from '../../src/models/module.ts';
import { weightSource } from '../../src/models/build-model.ts';
import { ARCHS, archSpec } from '../../src/models/registry.ts';
import { ARCH as RESNET50 } from '../../src/models/resnet50.ts';
import { Rng } from '../../src/rng.ts';
import { useTestBackend } from '../helpers/tf.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-sources-test-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('the shipped table covers every --arch and every public dataset, and lands them where the code looks', async () => {
  const t = loadSources({});
  assert.equal(t.path, DEFAULT_SOURCES);
  for (const arch of Object.keys(ARCHS)) {
    const item = weightsItemFor(t, arch);
    assert.ok(item, `weights item for ${arch}`);
    assert.equal(item.landsIn, `weights/${weightSource(await archSpec(arch), 'torchvision').file}`, arch);
  }
  for (const ds of Object.keys(DATASETS).filter((d) => d !== 'folder' && d !== 'sample')) {
    const item = sourceItem(t, ds);
    assert.equal(item.kind, 'dataset');
    assert.equal(item.landsIn, `Datasets/${ds}/`);
  }
  // Automatic items are verified and say where their checksum was published; the others say what to do.
  const automatic = [...t.items.values()].filter((i) => i.file).map((i) => i.key);
  assert.deepEqual(automatic, ['resnet50', 'cub200', 'online_products']);
  for (const i of t.items.values()) {
    if (i.file) {
      assert.match(i.file.sha256 ?? '', /^[0-9a-f]{64}$/, i.key);
      assert.ok(i.file.checksumSource.length > 40, i.key);
      assert.ok(
        i.file.urls.every((u) => u.startsWith('https://') || u.startsWith('http://')),
        i.key,
      );
    } else {
      assert.ok(
        i.manual!.some((step) => /npx mic-train prepare|fetch-pretrained\.sh --convert/.test(step)),
        i.key,
      );
    }
  }
});

test("the table's ResNet50 size is exactly torchvision's ResNet50 state dict laid out as safetensors", async () => {
  // Independent of the published number: names and shapes from our own torchvision-named model, plus the
  // ImageNet classifier and the BN step counters a torchvision state dict carries, laid out as the safetensors
  // library writes them (tensors sorted by dtype, larger first, then name; header padded with spaces to 8 bytes).
  await useTestBackend('cpu');
  const model = RESNET50.build({ embedSizes: [128, 128], rng: new Rng(1), randomBackbone: false });
  const entries: { name: string; shape: number[]; dtype: 'F32' | 'I64' }[] = [];
  for (const p of model.parameters()) {
    if (p.name.startsWith('last_linear')) continue;
    entries.push({ name: p.name, shape: torchShape(p.variable.shape, p.layout), dtype: 'F32' });
    if (p.name.endsWith('.running_var')) entries.push({ name: p.name.replace(/running_var$/, 'num_batches_tracked'), shape: [], dtype: 'I64' });
  }
  model.dispose();
  entries.push({ name: 'fc.weight', shape: [1000, 2048], dtype: 'F32' }, { name: 'fc.bias', shape: [1000], dtype: 'F32' });
  entries.sort((a, b) => (a.dtype === b.dtype ? (a.name < b.name ? -1 : 1) : a.dtype === 'I64' ? -1 : 1));
  let offset = 0;
  const parts = entries.map((e) => {
    const bytes = e.shape.reduce((x, y) => x * y, 1) * (e.dtype === 'I64' ? 8 : 4);
    const s = `${JSON.stringify(e.name)}:{"dtype":"${e.dtype}","shape":[${e.shape.join(',')}],"data_offsets":[${offset},${offset + bytes}]}`;
    offset += bytes;
    return s;
  });
  const header = `{${parts.join(',')}}`;
  const size = 8 + Math.ceil(header.length / 8) * 8 + offset;
  assert.equal(entries.length, 320);
  assert.equal(size, sourceItem(loadSources({}), 'resnet50').file!.size);
});

test('MIC_TRAIN_SOURCES replaces the table; a malformed table is a one-line error naming the file and item', () => {
  const write = (name: string, json: unknown) => {
    const f = path.join(tmp, name);
    fs.writeFileSync(f, typeof json === 'string' ? json : JSON.stringify(json));
    return f;
  };
  const good = write('good.json', {
    items: {
      resnet50: {
        kind: 'weights',
        arch: 'resnet50',
        title: 't',
        license: 'l',
        lands_in: 'weights/resnet50.safetensors',
        file: { name: 'm', urls: ['file:///x'], size: 3, sha256: null },
      },
    },
  });
  const t = loadSources({ MIC_TRAIN_SOURCES: good });
  assert.equal(t.path, good);
  assert.deepEqual([...t.items.keys()], ['resnet50']);
  assert.equal(t.items.get('resnet50')!.file!.sha256, null);
  assert.throws(() => sourceItem(t, 'cub200'), /unknown item 'cub200'; .*good\.json lists: resnet50/);
  const bad: [unknown, RegExp][] = [
    ['{not json', /bad1\.json: cannot read the sources table/],
    [{ items: { x: { kind: 'model' } } }, /bad2\.json: item 'x': kind must be "weights" or "dataset"/],
    [
      {
        items: {
          x: { kind: 'dataset', title: 't', license: 'l', lands_in: 'D/x/', file: { name: 'a', urls: ['ftp://h/a'], size: 1, sha256: null } },
        },
      },
      /item 'x': URL 'ftp:\/\/h\/a' is not http/,
    ],
    [
      {
        items: {
          x: { kind: 'dataset', title: 't', license: 'l', lands_in: 'D/x/', file: { name: 'a', urls: ['http://h/a'], size: 1, sha256: 'ABC' } },
        },
      },
      /item 'x': file\.sha256 must be 64 lower-case hex digits/,
    ],
    [
      {
        items: {
          x: { kind: 'dataset', title: 't', license: 'l', lands_in: 'D/x/', file: { name: 'a', urls: ['http://h/a'], size: 1, sha256: null } },
        },
      },
      /item 'x': datasets with a file need "unpack" rules/,
    ],
    [{ items: { x: { kind: 'weights', title: 't', license: 'l', lands_in: 'w', manual: ['do this'] } } }, /item 'x': weights items name the --arch/],
    [
      { items: { x: { kind: 'dataset', title: 't', license: 'l', lands_in: 'w' } } },
      /item 'x': give exactly one of "file" \(automatic\) and "manual"/,
    ],
  ];
  bad.forEach(([json, re], i) => {
    const f = write(`bad${i + 1}.json`, json);
    assert.throws(
      () => readSources(f),
      (e: unknown) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n'),
      String(re),
    );
  });
});

test('cache folder: MIC_TRAIN_CACHE, else $XDG_CACHE_HOME/mic-train, else ~/.cache/mic-train; MIC_TRAIN_OFFLINE values', () => {
  assert.equal(cacheDir({ MIC_TRAIN_CACHE: '/c', XDG_CACHE_HOME: '/x' }), '/c');
  assert.equal(cacheDir({ XDG_CACHE_HOME: '/x' }), '/x/mic-train');
  assert.equal(cacheDir({}), path.join(os.homedir(), '.cache', 'mic-train'));
  for (const v of ['1', 'true', 'YES']) assert.equal(offlineByEnv({ MIC_TRAIN_OFFLINE: v }), true, v);
  for (const v of ['', '0', 'no']) assert.equal(offlineByEnv({ MIC_TRAIN_OFFLINE: v }), false, v);
});
