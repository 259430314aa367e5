import assert from 'node:assert/strict';
import { toHumanLine, toJsonLine } from '../bus/json-lines.js';

describe('messages as text', () => {
  const scan = { t_ns: 1796107707515146012n, scan: 190, tracks: [{ id: 't1', status: 'confirmed', position: [1, 2, 3], covariance: new Uint8Array(288), views: 2 }] };

  it('a JSON line keeps uint64 exact and bin as base64', () => {
    const line = toJsonLine(scan);
    assert.match(line, /^\{"t_ns":1796107707515146012,"scan":190,/);
    assert.equal((JSON.parse(line) as { tracks: { covariance: string }[] }).tracks[0]!.covariance, Buffer.alloc(288).toString('base64'));
  });

  it('a human line is one line, with packed fields as their size', () => {
    const line = toHumanLine('skyvox.tracks', scan, false);
    assert.ok(!line.includes('\n'), line);
    assert.match(line, /^skyvox\.tracks \{ t_ns: 1796107707515146012n, scan: 190, tracks: \[ \{ id: 't1', status: 'confirmed', position: \[ 1, 2, 3 \], covariance: <bin 288 bytes>, views: 2 \} \] \}$/);
  });
});
