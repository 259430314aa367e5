/** MOTChallenge text files (`frame,id,x,y,w,h,conf,…`) scored with IoU distance, as py-motmetrics does. */
import { readFileSync } from 'node:fs';
import { clearMot, type ClearMotResult, type FrameData } from './clear-mot.js';

type Box = [number, number, number, number]; // x, y, w, h

/** Rows by frame number. */
export function readMot(file: string): Map<number, { id: string; value: Box }[]> {
  const frames = new Map<number, { id: string; value: Box }[]>();
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      const v = line.split(/[,\s]+/).map(Number);
      if (v.length < 6 || v.slice(0, 6).some((x) => !Number.isFinite(x))) throw new Error(`${file}: line ${i + 1}: expected frame,id,x,y,w,h[,conf,…], got ${JSON.stringify(line.slice(0, 60))}`);
      const f = v[0]!;
      frames.set(f, [...(frames.get(f) ?? []), { id: String(v[1]), value: [v[2]!, v[3]!, v[4]!, v[5]!] }]);
    });
  return frames;
}

/** 1 − intersection over union of two boxes. */
export function iouDistance(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  const union = a[2] * a[3] + b[2] * b[3] - inter;
  return union > 0 ? 1 - inter / union : 1;
}

/**
 * Scores trackers' MOT files against ground truth (pairs need 1 − IoU ≤ `maxIouDistance`).
 * Several (gt, test) sequences are scored together, their identities kept apart.
 */
export function evaluateMot(sequences: readonly { gt: string; test: string }[], maxIouDistance = 0.5): ClearMotResult {
  const data: FrameData<Box>[] = [];
  sequences.forEach(({ gt: gtFile, test: testFile }, s) => {
    const gt = readMot(gtFile);
    const test = readMot(testFile);
    const tag = (rows: { id: string; value: Box }[] | undefined) => (rows ?? []).map((r) => ({ id: `${s}:${r.id}`, value: r.value }));
    for (const f of [...new Set([...gt.keys(), ...test.keys()])].sort((a, b) => a - b)) data.push({ objects: tag(gt.get(f)), hypotheses: tag(test.get(f)) });
  });
  return clearMot(data, iouDistance, maxIouDistance);
}
