/**
 * Temporary folders for tests: created under the system temp folder and removed when the test process exits
 * (also when a test fails), so `npm test` leaves the temp folder as it found it. `npm test` itself runs every
 * test file with a private TMPDIR and fails when anything is left in it (scripts/run-tests.mjs).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made: string[] = [];
let hooked = false;

function removeAll(): void {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** A new empty folder `<tmp>/<prefix>XXXXXX`, removed at process exit (or earlier with `removeTempDir`). */
export function tempDir(prefix = 'mic-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  if (!hooked) {
    hooked = true;
    process.on('exit', removeAll);
  }
  return dir;
}

/** Remove a folder made by `tempDir` now (large run folders need not wait for the end of the file). */
export function removeTempDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  const i = made.indexOf(dir);
  if (i >= 0) made.splice(i, 1);
}
