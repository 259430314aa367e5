/**
 * One camera's detections scored against box labels (one box per object per frame), for real
 * footage: a point target's blob is a few pixels and a label box is drawn loosely around it,
 * so a label counts as found when a detection's centroid lies in its box (grown by a margin),
 * and a detection in no box is a false alarm. IoU would fail every such pair.
 */
import { readFileSync } from 'node:fs';

/** A labelled box, 0-based pixels: top-left corner and size. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
  label: string;
}

/**
 * Reads a label CSV with the header `frame,label,x,y,width,height` (frame 0-based; x, y the
 * top-left corner, counted from `origin`: 1 for MATLAB-made labels). An error names the line.
 */
export function readBoxLabels(file: string, origin = 1): Map<number, Box[]> {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  const header = lines[0]?.trim().toLowerCase().split(',').map((h) => h.trim());
  const want = ['frame', 'label', 'x', 'y', 'width', 'height'];
  if (!header || want.some((h, i) => header[i] !== h)) throw new TypeError(`${file}: line 1: expected the header ${want.join(',')}, got ${JSON.stringify(lines[0] ?? '')}`);
  const out = new Map<number, Box[]>();
  lines.slice(1).forEach((raw, i) => {
    if (!raw.trim()) return;
    const f = raw.split(',').map((v) => v.trim());
    const [frame, x, y, width, height] = [f[0], f[2], f[3], f[4], f[5]].map(Number) as [number, number, number, number, number];
    if (f.length < 6 || !Number.isInteger(frame) || frame < 0 || ![x, y, width, height].every(Number.isFinite) || width < 0 || height < 0) {
      throw new TypeError(`${file}: line ${i + 2}: expected frame (an integer ≥ 0), label, x, y, width ≥ 0, height ≥ 0, got ${JSON.stringify(raw)}`);
    }
    out.set(frame, [...(out.get(frame) ?? []), { x: x - origin, y: y - origin, width, height, label: f[1]! }]);
  });
  return out;
}

export interface BoxScore {
  /** Frames scored: those with detections (after the detector's warm-up) and within the labels' span. */
  frames: number;
  /** Label boxes in those frames. */
  boxes: number;
  /** Share of the boxes with a detection inside. */
  recall: number | null;
  /** Detections inside no box, per frame. */
  false_alarms_per_frame: number | null;
  /** Share of detections inside some box. */
  precision: number | null;
  /** Pixel distance from each found box's centre to the nearest detection in it: median. */
  median_offset_px: number | null;
  margin_px: number;
}

/** Scores `frames` (frame index → detection centroids) against `labels`. */
export function scoreAgainstBoxes(frames: Map<number, [number, number][]>, labels: Map<number, Box[]>, marginPx: number): BoxScore {
  const last = Math.max(-1, ...labels.keys());
  let [n, boxes, found, alarms, inside, total] = [0, 0, 0, 0, 0, 0];
  const offsets: number[] = [];
  for (const [k, points] of frames) {
    if (k > last) continue;
    n++;
    const bs = labels.get(k) ?? [];
    const within = (p: [number, number], b: Box) => p[0] >= b.x - marginPx && p[0] <= b.x + b.width + marginPx && p[1] >= b.y - marginPx && p[1] <= b.y + b.height + marginPx;
    for (const b of bs) {
      boxes++;
      const hits = points.filter((p) => within(p, b));
      if (hits.length === 0) continue;
      found++;
      const [cx, cy] = [b.x + b.width / 2, b.y + b.height / 2];
      offsets.push(Math.min(...hits.map((p) => Math.hypot(p[0] - cx, p[1] - cy))));
    }
    for (const p of points) {
      total++;
      if (bs.some((b) => within(p, b))) inside++;
      else alarms++;
    }
  }
  offsets.sort((a, b) => a - b);
  return {
    frames: n,
    boxes,
    recall: boxes ? found / boxes : null,
    false_alarms_per_frame: n ? alarms / n : null,
    precision: total ? inside / total : null,
    median_offset_px: offsets.length ? offsets[Math.floor(offsets.length / 2)]! : null,
    margin_px: marginPx,
  };
}
