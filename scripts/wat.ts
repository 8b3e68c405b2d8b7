/** WebAssembly text → binary with wabt, shared by scripts/build-wasm.ts and the test that checks the committed binary. */
import wabtInit from 'wabt';

export const RESAMPLE_WAT = new URL('../src/data/resample.wat', import.meta.url);
export const RESAMPLE_WASM = new URL('../src/data/resample.wasm', import.meta.url);

/** The binary of `text` (SIMD enabled), without debug names so the output depends on the source only. */
export async function compileWat(text: string): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const module = wabt.parseWat('resample.wat', text, { simd: true });
  try {
    module.validate();
    return module.toBinary({ log: false, write_debug_names: false }).buffer;
  } finally {
    module.destroy();
  }
}
