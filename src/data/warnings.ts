/**
 * Warnings of the data stage (bad images, tiny classes, odd dataset files). They go to stderr by default;
 * the run (or a test) can redirect them with `setDataWarningSink`. `warnOnce` keys make a repeated
 * problem (the same broken file seen every epoch) print only once per process.
 */

type Sink = (message: string) => void;

const defaultSink: Sink = (message) => console.warn(`warning: ${message}`);
let sink: Sink = defaultSink;
const seenKeys = new Set<string>();

/** Redirect data warnings (pass `undefined` to restore stderr). Returns the previous sink. */
export function setDataWarningSink(next: Sink | undefined): Sink {
  const previous = sink;
  sink = next ?? defaultSink;
  return previous;
}

/** Emit a data warning. */
export function dataWarn(message: string): void {
  sink(message);
}

/** Emit a data warning only the first time `key` is seen in this process. Returns whether it was emitted. */
export function dataWarnOnce(key: string, message: string): boolean {
  if (seenKeys.has(key)) return false;
  seenKeys.add(key);
  sink(message);
  return true;
}

/** Forget which keys were warned about (tests only). */
export function resetDataWarnings(): void {
  seenKeys.clear();
}
