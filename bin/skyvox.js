#!/usr/bin/env node
// Thin launcher: the CLI lives in cli/ and is compiled to dist/ by `npm ci` (prepare).
import { main } from '../dist/cli/main.js';
main(process.argv).then((code) => { process.exitCode = code; });
