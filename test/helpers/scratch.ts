/** A fresh temporary directory per test, removed (with every process the test started) after it. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadScenario } from '../../sim/scenario.js';
import { killAll } from './cli.js';

/** Registers mocha hooks: before each test `use` gets its fresh directory; after it, the directory and the test's processes go. */
export function scratchDir(prefix: string, use: (dir: string) => void): void {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), `skyvox-${prefix}-`));
    use(dir);
  });
  afterEach(() => {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });
}

/** Writes the built-in `quick` scenario in detection mode to DIR/quick-det.yaml; returns the path. */
export function quickInDetectionMode(dir: string): string {
  const file = join(dir, 'quick-det.yaml');
  writeFileSync(file, stringify({ ...JSON.parse(JSON.stringify(loadScenario('quick'))), mode: 'detections' }));
  return file;
}
