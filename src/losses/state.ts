/**
 * Strict loading of named loss/projection variables from a state dict (same rules as the models' loader:
 * missing, unexpected or shape-mismatched names are all listed in one UserError).
 */
import type * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.ts';

/** Assigns sd[name] to each expected variable; throws a UserError naming `source` on any mismatch. */
export function loadVariablesStrict(expected: Map<string, tf.Variable>, sd: Map<string, tf.Tensor>, source: string): void {
  const problems: string[] = [];
  for (const [name, variable] of expected) {
    const t = sd.get(name);
    if (t === undefined) problems.push(`missing ${name}`);
    else if (t.shape.join(',') !== variable.shape.join(',')) {
      problems.push(`${name} has shape [${t.shape.join(', ')}], expected [${variable.shape.join(', ')}]`);
    } else if (t.dtype !== 'float32') problems.push(`${name} has dtype ${t.dtype}, expected float32`);
  }
  for (const name of sd.keys()) if (!expected.has(name)) problems.push(`unexpected ${name}`);
  if (problems.length > 0) throw new UserError(`${source}: state does not match: ${problems.join('; ')}`);
  for (const [name, variable] of expected) variable.assign(sd.get(name)!);
}
