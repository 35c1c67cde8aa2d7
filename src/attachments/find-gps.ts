import { GPS_INFO, latin1 } from "./exif";
import { APP1, EOI, isStandalone, SOI, SOS } from "./jpeg-markers";

/**
 * Whether any JPEG in the file has EXIF with a GPSInfo pointer to an IFD with entries: the main
 * image, or any image embedded further on (a multi-picture file's gain or depth map, wherever its
 * FF D8 FF lies). A deliberately separate, small parser that shares no walking code with
 * `stripJpegLocation`, so tests can check one against the other; it looks wider than the scrubber
 * scrubs, so a location the scrubber misses shows up here.
 */
export function findGpsTag(jpeg: Uint8Array): boolean {
  if (jpeg[0] !== 0xff || jpeg[1] !== SOI) return false;
  for (let soi = 0; soi !== -1; soi = nextSoi(jpeg, soi + 2)) {
    if (headerHasGps(jpeg, soi)) return true;
  }
  return false;
}

/** Where the next FF D8 FF (a JPEG's start and its first marker) lies at or after `from`; -1 if none. */
function nextSoi(jpeg: Uint8Array, from: number): number {
  for (let at = jpeg.indexOf(0xff, from); at !== -1; at = jpeg.indexOf(0xff, at + 1)) {
    if (jpeg[at + 1] === SOI && jpeg[at + 2] === 0xff) return at;
  }
  return -1;
}

/** Walks the segments of the JPEG starting at `soi` up to its image data, looking in each EXIF. */
function headerHasGps(jpeg: Uint8Array, soi: number): boolean {
  const view = new DataView(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength);
  let at = soi + 2;
  while (at + 4 <= jpeg.length && jpeg[at] === 0xff) {
    const marker = jpeg[at + 1] ?? 0;
    if (marker === SOS || marker === EOI) return false;
    if (marker === 0xff || isStandalone(marker)) {
      at += marker === 0xff ? 1 : 2;
      continue;
    }
    const length = view.getUint16(at + 2);
    if (marker === APP1 && exifHasGps(jpeg.subarray(at + 4, at + 2 + length))) return true;
    at += 2 + length;
  }
  return false;
}

function exifHasGps(payload: Uint8Array): boolean {
  if (latin1(payload, 6) !== "Exif\0\0") return false;
  const tiff = new DataView(payload.buffer, payload.byteOffset + 6, payload.byteLength - 6);
  try {
    const little = tiff.getUint16(0) === 0x4949;
    const ifd0 = tiff.getUint32(4, little);
    const count = tiff.getUint16(ifd0, little);
    for (let i = 0; i < count; i++) {
      const entry = ifd0 + 2 + i * 12;
      if (tiff.getUint16(entry, little) !== GPS_INFO) continue;
      return tiff.getUint16(tiff.getUint32(entry + 8, little), little) > 0;
    }
    return false;
  } catch {
    // DataView throws on reads past the end: EXIF that broken holds nothing a reader could find.
    return false;
  }
}
