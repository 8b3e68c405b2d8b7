/**
 * scripts/install-gpu.sh refuses bad arguments before touching node_modules (installing needs the network and a
 * GPU machine; what was verified where is in the README's GPU section).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO } from '../helpers/cli.ts';

const SCRIPT = path.join(REPO, 'scripts', 'install-gpu.sh');
const run = (...args: string[]) => spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8', cwd: REPO });

test('install-gpu.sh: --help, and one-line refusals of a missing file, a non-tar.gz URL and unknown flags', () => {
  const help = run('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--libtensorflow URL\|FILE/);
  assert.match(help.stdout, /custom-binary\.json/);
  const cases: [string[], RegExp][] = [
    [['--libtensorflow', '/nonexistent/libtensorflow.tar.gz'], /^install-gpu: --libtensorflow \/nonexistent\/libtensorflow\.tar\.gz: no such file$/],
    [['--libtensorflow', 'https://example.invalid/lib.zip'], /only \.tar\.gz archives$/],
    [['--libtensorflow'], /needs a URL or a FILE$/],
    [['--cuda', '12'], /unknown argument '--cuda'/],
  ];
  for (const [args, msg] of cases) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr.trim(), msg);
    assert.doesNotMatch(r.stdout, /installing/);
  }
});
