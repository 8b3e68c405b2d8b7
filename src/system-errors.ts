/**
 * File-system failures that reach the top of the program (a disk that fills up, a folder whose permissions
 * change mid-run) are facts about the user's machine, not bugs: they get one line naming the path and the
 * cause instead of an "internal error" stack trace.
 */

/** System error codes in words, for messages about files. */
export const ERRNO_WORDS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'is a folder',
  EEXIST: 'already exists',
  ENAMETOOLONG: 'name too long',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EXDEV: 'cannot move across file systems',
  ENOTEMPTY: 'folder not empty',
  EBUSY: 'resource busy',
};

/** One line for a Node system error on a path (`cannot open '/x': permission denied (EACCES)`); null for anything else. */
export function systemErrorLine(err: unknown): string | null {
  const e = err as (NodeJS.ErrnoException & { dest?: string }) | null;
  if (!e || typeof e !== 'object' || typeof e.code !== 'string' || !(e.code in ERRNO_WORDS) || typeof e.path !== 'string') return null;
  const target = e.dest ? `'${e.path}' → '${e.dest}'` : `'${e.path}'`;
  return `cannot ${e.syscall ?? 'access'} ${target}: ${ERRNO_WORDS[e.code]} (${e.code})`;
}
