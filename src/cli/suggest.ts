/**
 * "Did you mean …?" for mistyped flags and values: the closest candidate by edit distance (insertions,
 * deletions, substitutions, and swaps of neighbouring letters), when it is close enough to be a typo.
 * `-` and `_` count as the same letter (the flag table mixes `n_epochs` and `input-size`).
 */

/** Optimal-string-alignment distance between `a` and `b`. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

const norm = (s: string) => s.toLowerCase().replace(/_/g, '-');

/** The candidate closest to `word`, or undefined when none is within typo distance (about a third of its length). */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = norm(word);
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dist = editDistance(w, norm(c));
    if (dist < bestD) {
      best = c;
      bestD = dist;
    }
  }
  const limit = Math.max(1, Math.min(3, Math.floor(w.length / 3)));
  return bestD <= limit ? best : undefined;
}

/** "; did you mean 'x'?" (or with a `--` prefix for flags), or '' when nothing is close. */
export function suggestion(word: string, candidates: readonly string[], prefix = ''): string {
  const c = closest(word, candidates);
  return c === undefined ? '' : `; did you mean ${prefix ? `${prefix}${c}` : `'${c}'`}?`;
}

/**
 * yargs' "Unknown argument(s): a, b" as one line per word: a mistyped flag with the closest known flag
 * (`unknown flag --n_epoch; did you mean --n_epochs?`), a stray word (not typed as a flag in `argv`) as an
 * unexpected argument with the closest of `words` (e.g. the sub-commands). Null for any other message.
 */
export function unknownFlagMessage(
  msg: string,
  known: readonly string[],
  helpCommand = 'mic-train --help',
  argv?: readonly string[],
  words: readonly string[] = [],
): string | null {
  const m = /^Unknown arguments?: (.+)$/.exec(msg.trim());
  if (!m) return null;
  const typedAsFlag = (n: string) => !argv || argv.some((a) => /^--?/.test(a) && a.replace(/^--?/, '').split('=')[0] === n);
  const parts = m[1].split(', ').map((raw) => {
    const n = raw.replace(/^-+/, '');
    return typedAsFlag(n)
      ? `unknown flag --${n}${suggestion(n, known, '--')}`
      : `unexpected argument '${n}' (flags start with --)${suggestion(n, words)}`;
  });
  return `${parts.join('; ')} (${helpCommand} lists them)`;
}
