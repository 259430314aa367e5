#!/usr/bin/env -S node --v8-pool-size=1 --max-semi-space-size=32
// Node options: cli/launcher.ts (SKYVOX_NODE_OPTIONS) says which and why; a test keeps the two alike.
// Thin launcher: the CLI lives in cli/ and is compiled to dist/ by `npm ci` (prepare).
import { main } from '../dist/cli/main.js';
main(process.argv).then((code) => { process.exitCode = code; });
