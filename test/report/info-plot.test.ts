import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { renderInfoPlot, metricsTitle } from '../../src/report/info-plot.ts';
import { emptyHistory, valMetricColumns } from '../../src/report/history.ts';

const cols = valMetricColumns([1, 2, 4, 8]);
function history(epochs: number) {
  const h = emptyHistory(cols);
  for (let e = 0; e < epochs; e++) {
    h.train.Epochs.push(e);
    h.train.Time.push(1);
    h.train['Train Loss'].push(0.3 - 0.05 * e);
    h.val.Epochs.push(e);
    h.val.Time.push(2);
    cols.forEach((c, i) => h.val[c].push(0.1 * i + 0.02 * e + (e === 1 ? 0.1 : 0))); // best in epoch 1
  }
  return h;
}

/** librsvg (inside sharp) refuses anything that is not well-formed SVG XML. */
async function assertRenders(svg: string) {
  const png = await sharp(Buffer.from(svg)).png().toBuffer();
  const meta = await sharp(png).metadata();
  assert.ok(meta.width! > 100 && meta.height! > 100);
}

test('the XML check used below does reject malformed SVG', async () => {
  await assert.rejects(sharp(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><g></svg>')).png().toBuffer());
});

test('SVG is well-formed and has both panels: training loss and every metric titled with its best value', async () => {
  const h = history(3);
  const svg = await renderInfoPlot(h, cols);
  await assertRenders(svg);
  assert.ok(svg.startsWith('<svg'));
  assert.match(svg, />Training Performance</);
  assert.match(svg, />Train Loss</);
  // Best values: NMI 0 + 0.02 + 0.1 = 0.12 (epoch 1), Recall @ 8: 0.5 + 0.02 + 0.1 = 0.62.
  const title = metricsTitle(h, cols).join(' | ');
  assert.equal(title, 'NMI: 0.120 | F1: 0.220 | Recall @ 1: 0.320 | Recall @ 2: 0.420 | Recall @ 4: 0.520 | Recall @ 8: 0.620');
  for (const line of metricsTitle(h, cols)) assert.ok(svg.includes(`>${line}<`), `title line '${line}' in the SVG`);
  for (const c of cols) assert.ok(svg.includes(`>${c}<`), `legend entry ${c}`);
});

test('one epoch (a single point per series) still renders', async () => {
  await assertRenders(await renderInfoPlot(history(1), cols));
});
