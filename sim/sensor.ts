/**
 * The photometric model shared by pixel mode and detection mode, so both see the same
 * signal: how bright an object is in each band, how the optics spread it, how noisy a pixel is.
 */
import type { Band } from './rig.js';
import type { Scenario } from './scenario.js';
import type { ObjectKind } from '../schemas/kinds.js';
import { normalCdf } from './stats.js';

/** One band's sensor, every field filled. */
export interface BandSensor {
  readNoiseDn: number;
  gainEPerDn: number;
  psfSigmaPx: number;
  bitDepth: number;
  skyDn: number;
  /** The motion detector's threshold in noise sigmas (per pixel). */
  thresholdSigma: number;
}

const DEFAULTS: Record<Band, BandSensor> = {
  // 8-bit machine-vision sensor with a ~10 000 e⁻ well: ~40 e⁻ per DN.
  mono: { readNoiseDn: 2, gainEPerDn: 40, psfSigmaPx: 0.8, bitDepth: 8, skyDn: 170, thresholdSigma: 5 },
  thermal: { readNoiseDn: 1.5, gainEPerDn: 20, psfSigmaPx: 0.9, bitDepth: 8, skyDn: 60, thresholdSigma: 5 },
};

/** The scenario's sensor for a band, defaults filled in. */
export function bandSensor(s: Scenario, band: Band): BandSensor {
  const o = s.sensor?.[band] ?? {};
  const d = DEFAULTS[band];
  return {
    readNoiseDn: o.read_noise_dn ?? d.readNoiseDn,
    gainEPerDn: o.gain_e_per_dn ?? d.gainEPerDn,
    psfSigmaPx: o.psf_sigma_px ?? d.psfSigmaPx,
    bitDepth: o.bit_depth ?? d.bitDepth,
    skyDn: o.sky_dn ?? d.skyDn,
    thresholdSigma: o.threshold_sigma ?? d.thresholdSigma,
  };
}

/**
 * Contrast of a fully covered pixel against the sky, in units of the band's sky level (mono:
 * silhouettes darker than the sky) or in DN above the cold sky (thermal: warm motors, warm
 * birds). Fill: the fraction of the object's bounding square that is object.
 */
const SIGNATURE: Record<ObjectKind, { mono: number; thermalDn: number; fill: number }> = {
  drone: { mono: -0.55, thermalDn: 90, fill: 0.35 },
  bird: { mono: -0.5, thermalDn: 70, fill: 0.4 },
  plane: { mono: -0.4, thermalDn: 120, fill: 0.3 },
};

/** Contrast of a fully covered pixel, in DN (negative: darker than the sky). */
export function pixelContrastDn(kind: ObjectKind, band: Band, sensor: BandSensor): number {
  return band === 'mono' ? SIGNATURE[kind].mono * sensor.skyDn : SIGNATURE[kind].thermalDn;
}

/** Noise of one pixel in DN at `levelDn`: read noise, photon shot noise and quantisation. */
export function pixelNoiseDn(sensor: BandSensor, levelDn = sensor.skyDn): number {
  return Math.sqrt(sensor.readNoiseDn ** 2 + Math.max(0, levelDn) / sensor.gainEPerDn + 1 / 12);
}

/** Sky level in DN for a view direction whose up-component is `z` (sin of elevation): brightest at the horizon. */
export function skyLevelDn(skyDn: number, z: number): number {
  return skyDn * (1.075 - 0.15 * Math.max(0, Math.min(1, z)));
}

/** What an object of `sizeM` metres at `rangeM` puts on a sensor with focal length `fPx`. */
export interface ObjectImage {
  /** Apparent size in pixels. */
  extentPx: number;
  /** Total signal (DN·px, signed). */
  flux: number;
  /** Spread of the image: PSF and object extent combined (px). */
  sigmaPx: number;
  /** Signal of the brightest pixel (DN, signed). */
  peak: number;
}

/**
 * Share of an image's flux that falls in the pixel holding its centre, for a centre `du`,
 * `dv` pixels from that pixel's middle (|du|, |dv| ≤ 0.5): what the detector's brightest
 * pixel sees, which depends on where in the pixel the target sits.
 */
export function centralPixelShare(sigmaPx: number, du: number, dv: number): number {
  const s = 1 / sigmaPx;
  return (normalCdf((0.5 - du) * s) - normalCdf((-0.5 - du) * s)) * (normalCdf((0.5 - dv) * s) - normalCdf((-0.5 - dv) * s));
}

/** The image an object leaves, sub-pixel objects included (their flux is kept exactly). */
export function objectImage(kind: ObjectKind, band: Band, sensor: BandSensor, sizeM: number, rangeM: number, fPx: number): ObjectImage {
  const extentPx = (sizeM * fPx) / rangeM;
  const contrast = pixelContrastDn(kind, band, sensor);
  const flux = contrast * SIGNATURE[kind].fill * extentPx * extentPx;
  // A uniform square of side e has variance e²/12 per axis; it convolves with the PSF.
  const sigmaPx = Math.sqrt(sensor.psfSigmaPx ** 2 + (SIGNATURE[kind].fill * extentPx * extentPx) / 12);
  const peakGauss = flux / (2 * Math.PI * sigmaPx * sigmaPx);
  const peak = Math.sign(contrast) * Math.min(Math.abs(peakGauss), Math.abs(contrast));
  return { extentPx, flux, sigmaPx, peak };
}
