// Port of: MIC's network selection (`--arch`; docs/porting.md#backbones)
/**
 * `ARCHS` maps every `--arch` value to the module of its network, which holds the architecture's settings (weight
 * sources, builder) as its `ARCH` export. It is the single source of the `--arch` values: the flag's choices, the
 * `RunConfig` type and the README flags table derive from its keys. Modules load only when asked for, so the CLI
 * reads this table without loading tfjs. Building and weight resolution: `build-model.ts`.
 */
import { UserError } from '../errors.ts';
import type { ArchSpec } from './types.ts';

export const ARCHS = {
  resnet50: () => import('./resnet50.ts'),
  googlenet: () => import('./googlenet.ts'),
  bninception: () => import('./bninception.ts'),
} satisfies Record<string, () => Promise<{ ARCH: ArchSpec }>>;

export type ArchName = keyof typeof ARCHS;

/** The settings of `--arch <name>`, or a UserError listing the valid names. */
export async function archSpec(name: string): Promise<ArchSpec> {
  if (!Object.hasOwn(ARCHS, name)) throw new UserError(`--arch ${name}: unknown architecture; expected one of ${Object.keys(ARCHS).join(', ')}`);
  return (await ARCHS[name as ArchName]()).ARCH;
}
