// The README's "Published numbers" tables and the report's PAPER_NUMBERS are one fact in two places: this test
// keeps them equal (every README value is the table's, and every table value is in the README).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { PAPER_NUMBERS } from '../../src/report/paper-numbers.ts';

const README_NAMES: Record<string, string> = {
  'CUB200-2011': 'cub200',
  CARS196: 'cars196',
  'Stanford Online Products': 'online_products',
  'In-Shop Clothes': 'in-shop',
};

/** `R@10` → `Recall @ 10`; `NMI` stays. */
const column = (head: string) => (head.startsWith('R@') ? `Recall @ ${head.slice(2)}` : head);

function readmeValues(): Map<string, Map<string, number>> {
  const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.split('## Published numbers')[1]?.split('\n## ')[0];
  assert.ok(section, 'README has a "Published numbers" section');
  const out = new Map<string, Map<string, number>>();
  let heads: string[] = [];
  for (const line of section.split('\n')) {
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    if (cells[0] === 'dataset') heads = cells.slice(1).map(column);
    const m = /^(.*) \(paper\)$/.exec(cells[0] ?? '');
    if (!m) continue;
    const dataset = README_NAMES[m[1]];
    assert.ok(dataset, `README row '${m[1]}' names a known dataset`);
    out.set(dataset, new Map(cells.slice(1).map((v, i) => [heads[i], Number(v)])));
  }
  const vid = /VehicleID small R@1 \(paper\): (\d+(?:\.\d+)?)/.exec(section);
  assert.ok(vid, 'README gives the VehicleID small-set R@1');
  out.set('vehicle_id', new Map([['Set 0 Recall @ 1', Number(vid[1])]]));
  return out;
}

test('README published numbers equal src/report/paper-numbers.ts, value for value', () => {
  const readme = readmeValues();
  assert.deepEqual([...readme.keys()].sort(), Object.keys(PAPER_NUMBERS).sort());
  for (const [dataset, entry] of Object.entries(PAPER_NUMBERS)) {
    const shown = readme.get(dataset)!;
    assert.deepEqual(
      Object.fromEntries(shown),
      Object.fromEntries(Object.entries(entry.values).map(([k, v]) => [k, v.value])),
      `${dataset}: README and PAPER_NUMBERS differ`,
    );
  }
});
