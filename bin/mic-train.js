#!/usr/bin/env node
// Launcher: runs the TypeScript entry point through tsx so `npx mic-train` works straight after `npm ci`.
import { register } from 'tsx/esm/api';
register();
await import('../src/main.ts');
