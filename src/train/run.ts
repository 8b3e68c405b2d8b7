import type { RunConfig } from '../cli/config.ts';
import { UserError } from '../errors.ts';

/** Placeholder until the training loop lands: says so instead of pretending to train. */
export async function runTraining(_cfg: RunConfig): Promise<void> {
  throw new UserError('training is not implemented yet in this build; use --dry-run to check a configuration');
}
