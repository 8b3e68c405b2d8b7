import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEmbedArgs } from '../../src/commands/embed.ts';
import { parseQueryArgs } from '../../src/commands/query.ts';
import { UserError } from '../../src/errors.ts';

const userError = (re: RegExp) => (err: unknown) => err instanceof UserError && re.test(err.message);

test('embed flags: defaults, numbers checked, a repeated flag keeps its last value', () => {
  const base = ['--checkpoint', 'ck', '--images', 'imgs', '--out', 'g.safetensors'];
  const d = parseEmbedArgs(base);
  assert.deepEqual([d.bs, d.kernels, d.backend], [64, 2, 'auto']);
  // yargs-parser adds a repeated number flag's values when the last one is 1 (5 + 1 = 6): last wins instead.
  const r = parseEmbedArgs([...base, '--bs', '5', '--bs', '1', '--kernels', '4', '--kernels', '1', '--out', 'h.npy']);
  assert.deepEqual([r.bs, r.kernels, r.out], [1, 1, 'h.npy']);
  assert.throws(() => parseEmbedArgs([...base, '--bs', '0']), userError(/--bs: expected a positive integer, got '0'/));
  assert.throws(() => parseEmbedArgs([...base, '--kernels', '2.5']), userError(/--kernels: expected a positive integer, got '2.5'/));
});

test('query flags: --k repeated keeps the last value; images stay positional', () => {
  const q = parseQueryArgs(['--gallery', 'g.safetensors', '--k', '5', 'a.png', '--k', '1', 'b.png']);
  assert.equal(q.k, 1);
  assert.deepEqual(q.images, ['a.png', 'b.png']);
  assert.equal(parseQueryArgs(['--gallery', 'g.safetensors', 'a.png']).k, 5);
  assert.throws(
    () => parseQueryArgs(['--gallery', 'g.safetensors', '--k', 'many', 'a.png']),
    userError(/--k: expected a positive integer, got 'many'/),
  );
});
