/**
 * Generic image-folder dataset (`--dataset folder`, a mic-train addition): any `<root>/<class>/<image>`
 * tree, root = `--source_path` itself. `--split-mode half`: classes in Python string order, first half
 * train (the CUB/CARS rule). `--split-mode file`: `<root>/split.txt` lists one `<class> train|test` per
 * line (class names may contain spaces; the last field is the split).
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.ts';
import { checkManifest } from '../check-manifest.ts';
import type { Manifest, ManifestItem } from '../manifest.ts';
import { dataWarn } from '../warnings.ts';
import { imagesIn, loadSortedClassTree } from './class-tree.ts';
import { labelSplit, listSubdirs, pythonStringCompare, readLines, requireDir, requireFile, type LayoutDescription } from './layout.ts';

export const FOLDER_LAYOUT: LayoutDescription = { dataset: 'folder', layout: '<class>/<image>.jpg' };
const SPLIT_FILE_LAYOUT: LayoutDescription = { dataset: 'folder', layout: 'split.txt (lines "<class> train|test") next to the <class>/ folders' };

/** Load a class-folder tree with the given split rule. */
export function loadFolder(root: string, splitMode: 'half' | 'file'): Manifest {
  if (splitMode === 'half') return loadSortedClassTree(root, root, FOLDER_LAYOUT);
  requireDir(root, root, FOLDER_LAYOUT);
  const splitFile = path.join(root, 'split.txt');
  requireFile(splitFile, root, SPLIT_FILE_LAYOUT);

  const present = new Set(listSubdirs(root));
  const assigned = new Map<string, 'train' | 'test'>();
  readLines(splitFile).forEach((line, i) => {
    if (line.startsWith('#')) return;
    const m = /^(.*\S)\s+(train|test)$/.exec(line);
    if (!m) throw new UserError(`'${splitFile}' line ${i + 1}: expected '<class> train' or '<class> test', found '${line.slice(0, 120)}'`);
    const [, cls, split] = m;
    if (!present.has(cls) || !fs.statSync(path.join(root, cls)).isDirectory()) {
      throw new UserError(`'${splitFile}' line ${i + 1}: class folder '${path.join(root, cls)}' not found`);
    }
    if (assigned.has(cls) && assigned.get(cls) !== split) {
      throw new UserError(`'${splitFile}' line ${i + 1}: class '${cls}' is listed as both train and test`);
    }
    assigned.set(cls, split as 'train' | 'test');
  });
  const unlisted = [...present].filter((c) => !assigned.has(c));
  if (unlisted.length > 0) {
    dataWarn(`--dataset folder: ${unlisted.length} class folder(s) not listed in '${splitFile}' are ignored, e.g. '${unlisted[0]}'`);
  }

  const items: ManifestItem[] = [];
  const classNames = { train: [] as string[], test: [] as string[] };
  for (const split of ['train', 'test'] as const) {
    const classes = [...assigned].filter(([, s]) => s === split).map(([c]) => c);
    const entries = classes.flatMap((cls) => imagesIn(root, cls, FOLDER_LAYOUT).map((file) => ({ path: path.join(root, cls, file), key: cls })));
    const s = labelSplit(entries, split, pythonStringCompare);
    items.push(...s.items);
    classNames[split] = s.classNames;
  }
  return checkManifest({ dataset: FOLDER_LAYOUT.dataset, root, classNames, items });
}
