/**
 * `npm run build:wasm`: compile src/data/resample.wat to src/data/resample.wasm with wabt (a dev dependency).
 * The .wasm is committed, so users and CI never run this; test/data/resample.test.ts checks it is current.
 */
import fs from 'node:fs';
import { compileWat, RESAMPLE_WASM, RESAMPLE_WAT } from './wat.ts';

const binary = await compileWat(fs.readFileSync(RESAMPLE_WAT, 'utf8'));
fs.writeFileSync(RESAMPLE_WASM, binary);
console.log(`wrote ${RESAMPLE_WASM.pathname} (${binary.length} bytes)`);
