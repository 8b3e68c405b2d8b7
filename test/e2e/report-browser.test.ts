/**
 * The HTML report as a person sees it: `mic-train report` over two sample runs and an interrupted one, opened in
 * Debian's headless Chromium (driven over the DevTools protocol by playwright-core; no browser download). No
 * console errors, nothing fetched, the tables and the chart render, one line per run in each chart panel, the
 * screenshot is not blank, and on a phone-sized screen the page does not overflow sideways.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { runCli } from '../helpers/cli.ts';
import { makeReportFixtures } from '../helpers/run-fixtures.ts';

const CHROMIUM = '/usr/bin/chromium';
// The flags this project's machines need: no sandbox as root, no GPU, and nothing that reaches the network.
const CHROMIUM_ARGS = [
  ...'--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync'.split(
    ' ',
  ),
];

const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-report-browser-'));
after(() => fs.rmSync(parent, { recursive: true, force: true }));

interface Probe {
  runRows: string[];
  metricTables: number;
  cubACell: number;
  lineLabels: string[];
  linesDrawn: number;
  images: [boolean, number][];
  overflow: number;
}

/**
 * What the page shows, measured inside the browser. Plain JavaScript in a string: code compiled by tsx would
 * carry helper calls (`__name`) that do not exist in the page.
 */
const PROBE = `(() => {
  const visible = (el) => el.getBoundingClientRect().width > 0 && el.getBoundingClientRect().height > 0;
  const lines = [...document.querySelectorAll('svg path[aria-roledescription="line mark"]')];
  return {
    runRows: [...document.querySelectorAll('table.runs tbody tr')].map((tr) => tr.children[0].textContent),
    metricTables: document.querySelectorAll('table.metrics').length,
    cubACell: [...document.querySelectorAll('table.metrics td')].filter((td) => td.textContent === '62.0 @1 (\u22124.1)' && visible(td)).length,
    lineLabels: lines.map((p) => p.getAttribute('aria-label') || ''),
    linesDrawn: lines.filter((p) => (p.getAttribute('d') || '').length > 3 && visible(p)).length,
    images: [...document.images].map((img) => [img.complete, img.naturalWidth]),
    overflow: document.documentElement.scrollWidth - window.innerWidth,
  };
})()`;

/** Mean and spread of a screenshot's pixels: a blank page is one flat colour. */
async function pixelSpread(png: Buffer): Promise<{ stdev: number; nonWhite: number }> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const stats = await sharp(png).removeAlpha().stats();
  let nonWhite = 0;
  for (let i = 0; i < data.length; i += info.channels) if (data[i] + data[i + 1] + data[i + 2] < 3 * 240) nonWhite++;
  return { stdev: Math.max(...stats.channels.map((c) => c.stdev)), nonWhite: nonWhite / (info.width * info.height) };
}

test('HTML report in headless Chromium: no errors, no network, tables and chart render', { timeout: 180_000 }, async (t) => {
  if (!fs.existsSync(CHROMIUM)) {
    assert.ok(!process.env.CI, `${CHROMIUM} is missing in CI; .ci/run installs Debian's chromium before the tests`);
    t.skip(`${CHROMIUM} not installed (apt-get install chromium); the browser check is skipped outside CI`);
    return;
  }
  const { cubA, cubB, carsCut } = await makeReportFixtures(path.join(parent, 'runs'));
  const html = path.join(parent, 'report.html');
  const r = runCli(['report', cubA, cubB, carsCut, '--out', html]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /wrote .*report\.html/);
  assert.match(r.stderr, /1 of 3 run\(s\) incomplete/);

  const { chromium } = await import('playwright-core');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-chromium-profile-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 1,
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (q) => requests.push(q.url()));
    const url = pathToFileURL(html).href;
    await page.goto(url, { waitUntil: 'load' });

    const seen = (await page.evaluate(PROBE)) as Probe;
    assert.deepEqual(seen.runRows, ['cubA', 'cubB', 'carsCut']);
    assert.equal(seen.metricTables, 2, 'one table per dataset');
    assert.equal(seen.cubACell, 1);
    assert.equal(seen.lineLabels.length, 6, 'two panels (R@1, NMI) × three runs');
    for (const label of ['cubA', 'cubB', 'carsCut']) assert.equal(seen.lineLabels.filter((l) => l.endsWith(`Run: ${label}`)).length, 2, label);
    assert.equal(seen.linesDrawn, 6);
    assert.deepEqual(
      seen.images,
      [
        [true, 16],
        [true, 16],
        [true, 16],
      ],
      'the three recoveries pictures decode',
    );
    assert.ok(seen.overflow <= 0, `the page scrolls sideways by ${seen.overflow} px on a phone (tables should scroll inside their box)`);

    const chart = await page.locator('figure.chart svg').screenshot();
    const chartPixels = await pixelSpread(chart);
    assert.ok(chartPixels.stdev > 20 && chartPixels.nonWhite > 0.01, `chart screenshot looks blank: ${JSON.stringify(chartPixels)}`);
    const whole = await page.screenshot({ fullPage: true });
    const wholePixels = await pixelSpread(whole);
    assert.ok(wholePixels.stdev > 20 && wholePixels.nonWhite > 0.01, `page screenshot looks blank: ${JSON.stringify(wholePixels)}`);

    assert.deepEqual(problems, []);
    assert.deepEqual(
      requests.filter((u) => u !== url && !u.startsWith('data:')),
      [],
      'the report fetches nothing',
    );
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
});
