#!/usr/bin/env node
// Launcher: runs the TypeScript entry point through tsx so `npx mic-train` works straight after `npm ci`.
import os from 'node:os';
import { register } from 'tsx/esm/api';
// libuv's pool (default 4) is shared by sharp's work in every thread; give it room on larger machines.
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, os.availableParallelism()));
register();
await import('../src/main.ts');
