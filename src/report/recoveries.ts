// Port of: auxiliaries.py `recover_closest_one_dataset` / `recover_closest_inshop` (`sample_recoveries.png`) (docs/porting.md#eval-recoveries)
/**
 * The sample-recoveries picture: one row per query, the query tile first, then its nearest neighbours,
 * drawn from the original (un-augmented) image files. The query tile has a blue frame and a "Q" badge;
 * each neighbour a green frame when it has the query's label and a red one when not, with its rank.
 * Tiles are decoded and fitted with sharp, the frames and badges are an SVG overlay, and sharp
 * rasterises the whole to PNG (no canvas package).
 *
 * Porting note: the original marks columns (red query / green neighbours) without correctness and, for
 * In-Shop, draws mis-indexed rows; the caller here passes explicit query → neighbour paths, so In-Shop
 * rows are query → gallery as they should be.
 */
import sharp, { type OverlayOptions } from 'sharp';
import { readImageBytes } from '../data/decode.ts';
import { assert } from '../errors.ts';
import type { Rng } from '../rng.ts';

/** One row of the picture. */
export interface RecoveryRow {
  queryPath: string;
  /** Nearest neighbours first (3 in the original layout), excluding the query itself. */
  neighbourPaths: string[];
  /** Per neighbour: does its label equal the query's? */
  correct: boolean[];
  /** Optional labels, printed under the tiles. */
  queryLabel?: string | number;
  neighbourLabels?: (string | number)[];
}

export interface RecoveryOptions {
  /** Tile edge in pixels (images are fitted inside, aspect kept); default 128. */
  tile?: number;
}

export interface RecoverySource {
  /** Query images and their labels. */
  queryPaths: readonly string[];
  queryLabels: ArrayLike<number>;
  /** Database images (= the queries for all-vs-all protocols; the gallery for In-Shop). */
  galleryPaths: readonly string[];
  galleryLabels: ArrayLike<number>;
  /** Row-major [nQueries, k] gallery indices, nearest first (what the evaluator's kNN returns). */
  neighbours: Int32Array;
  k: number;
  /** All-vs-all search: each query's own index appears among its neighbours and is dropped. */
  selfIncluded: boolean;
}

/**
 * Pick `nRows` queries uniformly *with replacement* (as the original's `np.random.choice`, from the
 * 'recoveries' stream) and build their rows with the first `nNeighbours` neighbours other than the query.
 * Porting note: the original drops rank 0 assuming it is the query; we drop the query's own index
 * wherever it is (duplicate images may tie with it).
 */
export function recoveryRows(src: RecoverySource, rng: Rng, nRows = 10, nNeighbours = 3): RecoveryRow[] {
  const nQ = src.queryPaths.length;
  assert(src.neighbours.length === nQ * src.k, `neighbours has ${src.neighbours.length} entries, expected ${nQ}×${src.k}`);
  if (nQ === 0) return [];
  const rows: RecoveryRow[] = [];
  for (let r = 0; r < nRows; r++) {
    const q = rng.int(nQ);
    const ids: number[] = [];
    for (let j = 0; j < src.k && ids.length < nNeighbours; j++) {
      const g = src.neighbours[q * src.k + j];
      if (g < 0) continue; // padding: fewer database items than neighbours asked for
      if (src.selfIncluded && g === q) continue;
      ids.push(g);
    }
    rows.push({
      queryPath: src.queryPaths[q],
      queryLabel: src.queryLabels[q],
      neighbourPaths: ids.map((g) => src.galleryPaths[g]),
      neighbourLabels: ids.map((g) => src.galleryLabels[g]),
      correct: ids.map((g) => src.galleryLabels[g] === src.queryLabels[q]),
    });
  }
  return rows;
}

/** Frame colours: query, correct neighbour, wrong neighbour. */
export const RECOVERY_COLOURS = { query: '#1f5fd6', correct: '#1a9a2a', wrong: '#d62020' } as const;

/** Geometry of the grid: each cell is the tile with a `frame`-wide band around it for the marking. */
export function recoveryLayout(nRows: number, nCols: number, tile = 128) {
  const frame = Math.max(3, Math.round(tile / 20));
  const cell = tile + 2 * frame;
  return { frame, cell, width: nCols * cell, height: nRows * cell };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Decode, fit into tile×tile on white, drop alpha. An unreadable file becomes a grey tile saying so. */
async function loadTile(path: string, tile: number): Promise<{ png: Buffer; ok: boolean }> {
  try {
    const png = await sharp(await readImageBytes(path))
      .resize(tile, tile, { fit: 'contain', background: '#ffffff' })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .png()
      .toBuffer();
    return { png, ok: true };
  } catch {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${tile}" height="${tile}"><rect width="100%" height="100%" fill="#bbbbbb"/><text x="50%" y="50%" font-family="DejaVu Sans" font-size="${Math.max(8, tile / 10)}" text-anchor="middle" fill="#333">unreadable</text></svg>`;
    return { png: await sharp(Buffer.from(svg)).png().toBuffer(), ok: false };
  }
}

/**
 * Draw the picture to `outPath` (PNG). Size: `recoveryLayout(rows.length, 1 + max neighbours, tile)`.
 * Returns the paths that could not be read (named once by the caller; the tiles show "unreadable").
 */
export async function drawRecoveries(rows: RecoveryRow[], outPath: string, opts: RecoveryOptions = {}): Promise<string[]> {
  const tile = opts.tile ?? 128;
  const nCols = 1 + Math.max(0, ...rows.map((r) => r.neighbourPaths.length));
  const { frame, cell, width, height } = recoveryLayout(rows.length, nCols, tile);
  const composites: OverlayOptions[] = [];
  const unreadable: string[] = [];
  const marks: string[] = [];
  const badge = Math.max(12, Math.round(tile / 6));
  const mark = (r: number, c: number, colour: string, text: string, label?: string | number) => {
    const x = c * cell;
    const y = r * cell;
    marks.push(
      `<rect x="${x + frame / 2}" y="${y + frame / 2}" width="${cell - frame}" height="${cell - frame}" fill="none" stroke="${colour}" stroke-width="${frame}"/>`,
      `<rect x="${x + frame}" y="${y + frame}" width="${badge * 1.4}" height="${badge}" fill="${colour}"/>`,
      `<text x="${x + frame + badge * 0.7}" y="${y + frame + badge * 0.8}" font-family="DejaVu Sans" font-weight="bold" font-size="${badge * 0.8}" text-anchor="middle" fill="#ffffff">${esc(text)}</text>`,
    );
    if (label !== undefined) {
      // Cut long class names to what fits the tile width (DejaVu Sans ≈ 0.6 em per character).
      const maxChars = Math.max(3, Math.floor(tile / (badge * 0.7 * 0.6)));
      let s = String(label);
      if (s.length > maxChars) s = s.slice(0, maxChars - 1) + '…';
      marks.push(
        `<text x="${x + cell - frame - 2}" y="${y + cell - frame - 3}" font-family="DejaVu Sans" font-size="${badge * 0.7}" text-anchor="end" fill="#000000" stroke="#ffffff" stroke-width="2" paint-order="stroke">${esc(s)}</text>`,
      );
    }
  };
  for (const [r, row] of rows.entries()) {
    const paths = [row.queryPath, ...row.neighbourPaths];
    const tiles = await Promise.all(paths.map((p) => loadTile(p, tile)));
    for (const [c, t] of tiles.entries()) {
      if (!t.ok) unreadable.push(paths[c]);
      composites.push({ input: t.png, left: c * cell + frame, top: r * cell + frame });
    }
    mark(r, 0, RECOVERY_COLOURS.query, 'Q', row.queryLabel);
    row.neighbourPaths.forEach((_, i) =>
      mark(r, i + 1, row.correct[i] ? RECOVERY_COLOURS.correct : RECOVERY_COLOURS.wrong, String(i + 1), row.neighbourLabels?.[i]),
    );
  }
  const overlay = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${marks.join('')}</svg>`;
  composites.push({ input: Buffer.from(overlay), left: 0, top: 0 });
  await sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite(composites)
    .png()
    .toFile(outPath);
  return unreadable;
}
