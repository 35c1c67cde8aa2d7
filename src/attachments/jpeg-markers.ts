/** JPEG marker codes (the byte after 0xFF) that the location scrubber and its checker act on. */
export const SOI = 0xd8;
export const EOI = 0xd9;
export const SOS = 0xda;
export const APP0 = 0xe0;
export const APP1 = 0xe1;
export const APP2 = 0xe2;
export const APP14 = 0xee;
export const APP15 = 0xef;
export const COM = 0xfe;

/** Markers with no length or payload: TEM, RST0-RST7, SOI and EOI. */
export function isStandalone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= EOI);
}
