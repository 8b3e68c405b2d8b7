import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../../src/errors.ts';
import { archiveKind, extractArchive, prefixMap, safeMemberPath } from '../../src/io/archive.ts';
import { tarBytes, tgzBytes, zipBytes, type ArchiveMember } from '../helpers/archives.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mic-archive-test-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let n = 0;
/** Writes `bytes` as an archive file in its own folder; returns the archive path and a fresh target folder beside it. */
function place(bytes: Buffer, ext: string): { archive: string; dest: string; box: string } {
  const box = path.join(tmp, `case${n++}`);
  fs.mkdirSync(box);
  const archive = path.join(box, `a.${ext}`);
  fs.writeFileSync(archive, bytes);
  return { archive, dest: path.join(box, 'out'), box };
}

/** Every path under `dir`, relative, sorted ('/' after folders). */
function tree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).map((p) => p.split(path.sep).join('/')).sort();
}

const GOOD: ArchiveMember[] = [
  { name: 'CUB_200_2011/', dir: true },
  { name: 'CUB_200_2011/images/001.A/a.jpg', data: 'jpeg-a' },
  { name: 'CUB_200_2011/images/002.B/b.jpg', data: 'jpeg-b' },
  { name: 'CUB_200_2011/classes.txt', data: '1 001.A\n2 002.B\n' },
  { name: 'attributes.txt', data: 'skipped by the map' },
  { name: 'CUB_200_2011/images/002.B/latest.jpg', symlinkTo: 'b.jpg' },
];
const MAP = prefixMap([{ from: 'CUB_200_2011/', to: '' }]);

for (const [kind, bytes, ext] of [
  ['tar.gz', tgzBytes(GOOD), 'tgz'],
  ['zip', zipBytes(GOOD), 'zip'],
  ['tar', tarBytes(GOOD), 'tar'],
] as const) {
  test(`${kind}: members land where the map says, links inside the target are kept, the rest is skipped`, async () => {
    const { archive, dest } = place(bytes, ext);
    const r = await extractArchive(archive, { dest, map: MAP });
    assert.deepEqual(tree(dest), [
      'classes.txt',
      'images',
      'images/001.A',
      'images/001.A/a.jpg',
      'images/002.B',
      'images/002.B/b.jpg',
      'images/002.B/latest.jpg',
    ]);
    assert.equal(fs.readFileSync(path.join(dest, 'images/002.B/b.jpg'), 'utf8'), 'jpeg-b');
    assert.equal(fs.readlinkSync(path.join(dest, 'images/002.B/latest.jpg')), 'b.jpg');
    assert.deepEqual(r, { files: 3, bytes: 12 + 16, links: 1, skipped: 1 });
  });
}

const HOSTILE: [string, ArchiveMember[], RegExp][] = [
  [
    "a '../' member",
    [
      { name: 'ok.txt', data: 'fine' },
      { name: '../evil.txt', data: 'escaped' },
    ],
    /refused member '\.\.\/evil\.txt' \('\.\.' in the path\)/,
  ],
  ["a '..' hidden inside a path", [{ name: 'a/../../evil.txt', data: 'escaped' }], /refused member 'a\/\.\.\/\.\.\/evil\.txt'/],
  ['an absolute path', [{ name: '/EVIL_ABS/evil.txt', data: 'escaped' }], /refused member '\/EVIL_ABS\/evil\.txt' \(absolute path\)/],
  [
    'a symlink leading out',
    [
      { name: 'link', symlinkTo: '../' },
      { name: 'link/evil.txt', data: 'escaped' },
    ],
    /refused member 'link' \(link to '\.\.\/' points outside the target folder\)/,
  ],
  ['an absolute symlink', [{ name: 'etc', symlinkTo: '/etc' }], /refused member 'etc' \(link to '\/etc' points outside/],
];

for (const [what, members, message] of HOSTILE) {
  for (const [ext, bytes] of [
    ['tgz', tgzBytes(members)],
    ['zip', zipBytes(members)],
  ] as const) {
    test(`${ext} with ${what}: refused with a one-line error naming the member; nothing written outside`, async () => {
      const { archive, dest, box } = place(bytes, ext);
      const before = tree(box);
      await assert.rejects(extractArchive(archive, { dest, map: (m) => m }), (e: unknown) => {
        assert.ok(e instanceof UserError, String(e));
        assert.match(e.message, message);
        assert.ok(e.message.startsWith(archive) && e.message.endsWith('the archive was not unpacked') && !e.message.includes('\n'), e.message);
        return true;
      });
      // Only the target folder itself may have appeared; the archive's neighbours and parents are unchanged.
      assert.deepEqual(
        tree(box).filter((p) => p !== 'out' && !p.startsWith('out/')),
        before,
      );
      assert.equal(fs.existsSync(path.join(box, 'evil.txt')), false);
      assert.equal(fs.existsSync(path.join(tmp, 'evil.txt')), false);
      assert.equal(fs.existsSync('/EVIL_ABS'), false);
    });
  }
}

test('tar hard links: to an unpacked member is fine, out of the target is refused', async () => {
  const ok = place(
    tgzBytes([
      { name: 'a.txt', data: 'A' },
      { name: 'b.txt', hardlinkTo: 'a.txt' },
    ]),
    'tgz',
  );
  await extractArchive(ok.archive, { dest: ok.dest, map: (m) => m });
  assert.equal(fs.statSync(path.join(ok.dest, 'b.txt')).ino, fs.statSync(path.join(ok.dest, 'a.txt')).ino);
  const bad = place(tgzBytes([{ name: 'b.txt', hardlinkTo: '../../etc/passwd' }]), 'tgz');
  await assert.rejects(
    extractArchive(bad.archive, { dest: bad.dest, map: (m) => m }),
    /refused member 'b\.txt' \(hard link to '\.\.\/\.\.\/etc\/passwd' points outside/,
  );
});

test('a map that returns a path leading out is refused too', async () => {
  const { archive, dest } = place(tgzBytes([{ name: 'x.txt', data: 'x' }]), 'tgz');
  await assert.rejects(extractArchive(archive, { dest, map: () => '../x.txt' }), /refused member 'x\.txt'/);
});

test('not an archive, a truncated archive, an encrypted zip: one-line errors', async () => {
  const junk = place(Buffer.from('hello, not an archive'), 'tgz');
  await assert.rejects(extractArchive(junk.archive, { dest: junk.dest, map: (m) => m }), /not a \.tar, \.tar\.gz\/\.tgz or \.zip archive$/);
  const full = tgzBytes([{ name: 'big.bin', data: Buffer.alloc(100_000, 3) }]);
  const cut = place(full.subarray(0, full.length - 40), 'tgz');
  await assert.rejects(
    extractArchive(cut.archive, { dest: cut.dest, map: (m) => m }),
    (e: unknown) => e instanceof UserError && /not a readable tar archive/.test(e.message),
  );
  const enc = place(zipBytes([{ name: 'img/a.jpg', data: 'x' }], { encrypted: true }), 'zip');
  await assert.rejects(
    extractArchive(enc.archive, { dest: enc.dest, map: (m) => m }),
    /member 'img\/a\.jpg' is encrypted; unpack the archive with its password first/,
  );
});

test('safeMemberPath normalises and refuses; archiveKind sniffs content, not the extension', () => {
  assert.equal(safeMemberPath('./a//b/./c.jpg'), 'a/b/c.jpg');
  for (const bad of ['../a', 'a/..', 'C:/x', '\\\\server\\x', 'a\\..\\b', '/abs', 'a\0b']) assert.throws(() => safeMemberPath(bad), bad);
  const { archive } = place(zipBytes(GOOD), 'tgz');
  assert.equal(archiveKind(archive), 'zip');
  assert.equal(archiveKind(place(tarBytes(GOOD), 'zip').archive), 'tar');
});

test('an aborted unpacking stops with exit code 130', async () => {
  const { archive, dest } = place(tgzBytes(GOOD), 'tgz');
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(
    extractArchive(archive, { dest, map: MAP, signal: ac.signal }),
    (e: unknown) => e instanceof UserError && e.exitCode === 130 && /^interrupted while unpacking/.test(e.message),
  );
});
