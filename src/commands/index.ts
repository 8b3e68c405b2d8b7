/**
 * The commands layer: `mic-train <command> …`. Each command lives in its own file with its flags and its
 * run function together; the stages below (data/, models/, eval/, …) know no command. Modules are
 * imported lazily so `mic-train --help` and small commands do not load tfjs.
 */
export interface Command {
  /** One line for `mic-train --help`. */
  summary: string;
  /** Parses `argv` (the words after the command name) and runs; resolves to the exit code. */
  load: () => Promise<{ run: (argv: string[]) => Promise<number> }>;
}

export const COMMANDS: Readonly<Record<string, Command>> = {
  embed: { summary: 'embed a folder of images with a trained model (→ .safetensors or .npy)', load: () => import('./embed.ts') },
  doctor: {
    summary: 'check the backends, the GPU and a forward/backward in a minute; measure img/s and estimate run times',
    load: () => import('./doctor.ts'),
  },
  query: { summary: 'nearest gallery images of query images (gallery made by `embed`)', load: () => import('./query.ts') },
  download: {
    summary: 'fetch ImageNet weights and datasets (verified, resumable): resnet50, cub200, online_products, …',
    load: () => import('./download.ts'),
  },
  prepare: {
    summary: 'arrange a dataset fetched by hand (cars196, in-shop, vehicle_id, …) into the layout training reads',
    load: () => import('./prepare.ts'),
  },
  report: { summary: "compare run folders with each other and with the paper's numbers (→ .md or .html)", load: () => import('./report.ts') },
};

/** The lines of `mic-train --help` that list the sub-commands (yargs drops leading spaces, so no indent). */
export function commandsHelp(): string {
  return [
    'Commands (`mic-train <command> --help` lists their flags):',
    ...Object.entries(COMMANDS).map(([n, c]) => `- ${n}: ${c.summary}`),
    '- (no command): train with the options below; new here? try `mic-train --dataset sample`',
  ].join('\n');
}
