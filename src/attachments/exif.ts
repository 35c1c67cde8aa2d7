/** The TIFF tag whose value points to the GPS IFD. */
export const GPS_INFO = 0x8825;

/** TIFF tags that carry a location or a container that may: GPSInfo, XMP, IPTC, Photoshop resources. */
const LOCATION_TAGS = new Set([GPS_INFO, 0x02bc, 0x83bb, 0x8649]);

/** Bytes per value of each TIFF field type, by type number (1 BYTE ... 13 IFD); 0 is not a type. */
const TYPE_SIZES = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4];

/**
 * Removes location tags from a TIFF structure in place: each such entry leaves IFD0 (and IFD1), and
 * the data it points to, the GPS IFD and everything that IFD points to are zeroed. False when any of
 * that lies outside the data or overlaps what must stay; the caller then blanks the segment, since
 * losing EXIF is better than leaking a location.
 */
export function scrubExif(tiff: Uint8Array): boolean {
  try {
    const reader = new TiffReader(tiff);
    const ifd0 = reader.u32(4);
    const ifd0Range = [ifd0, ifd0 + 6 + reader.u16(ifd0) * 12] as const;
    const ifd1 = scrubIfd(reader, ifd0, null);
    // IFD1 (the thumbnail's) pointing back at IFD0 is a harmless loop; anywhere else inside it is not.
    if (ifd1 !== 0 && ifd1 !== ifd0) scrubIfd(reader, ifd1, ifd0Range);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes the location entries of the IFD at `offset`; returns the next IFD's offset. It must not
 * overlap `other` (an IFD already rewritten), or its rewrite could reshape that one.
 */
function scrubIfd(reader: TiffReader, offset: number, other: readonly [number, number] | null): number {
  const count = reader.u16(offset);
  const entriesEnd = offset + 2 + count * 12;
  const next = reader.u32(entriesEnd);
  const ifdEnd = entriesEnd + 4;
  if (other && offset < other[1] && ifdEnd > other[0]) throw new RangeError("IFDs overlap");
  const kept: Uint8Array[] = [];
  const wipes: Array<readonly [number, number]> = [];
  for (let e = offset + 2; e < entriesEnd; e += 12) {
    const tag = reader.u16(e);
    if (!LOCATION_TAGS.has(tag)) {
      kept.push(reader.bytes.slice(e, e + 12));
      continue;
    }
    const data = reader.valueRange(e);
    if (data) wipes.push(data);
    if (tag === GPS_INFO) wipes.push(...gpsIfdRanges(reader, e));
  }
  if (kept.length === count) return next;
  // Everything checked before anything changes: a wipe over the header or this IFD means a loop.
  for (const [start, end] of wipes) {
    if (start < 8 || (start < ifdEnd && end > offset)) throw new RangeError("location data overlaps its IFD");
  }
  reader.setU16(offset, kept.length);
  for (const [k, entry] of kept.entries()) reader.bytes.set(entry, offset + 2 + k * 12);
  const newEnd = offset + 2 + kept.length * 12;
  reader.setU32(newEnd, next);
  reader.bytes.fill(0, newEnd + 4, ifdEnd);
  for (const [start, end] of wipes) reader.bytes.fill(0, start, end);
  return next;
}

/** The GPS IFD pointed to by the GPSInfo entry at `entry`, and every value it points to. */
function gpsIfdRanges(reader: TiffReader, entry: number): Array<readonly [number, number]> {
  const type = reader.u16(entry + 2);
  if ((type !== 4 && type !== 13) || reader.u32(entry + 4) !== 1) throw new RangeError("bad GPSInfo entry");
  const gps = reader.u32(entry + 8);
  const entriesEnd = gps + 2 + reader.u16(gps) * 12;
  reader.check(entriesEnd);
  // The next-IFD offset after the entries is wiped too when it is there; some writers leave it out.
  const ranges: Array<readonly [number, number]> = [[gps, Math.min(entriesEnd + 4, reader.bytes.length)]];
  for (let e = gps + 2; e < entriesEnd; e += 12) {
    const data = reader.valueRange(e);
    if (data) ranges.push(data);
  }
  return ranges;
}

/** Bounds-checked reads and writes over TIFF data in either byte order; every miss throws. */
class TiffReader {
  private readonly view: DataView;
  private readonly little: boolean;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const order = latin1(bytes, 2);
    if (order !== "II" && order !== "MM") throw new RangeError("not TIFF");
    this.little = order === "II";
    if (this.u16(2) !== 42) throw new RangeError("not TIFF");
  }

  /** Throws unless `end` is within the data. */
  check(end: number): void {
    if (end > this.bytes.length) throw new RangeError("past the end of EXIF");
  }

  u16(at: number): number {
    return this.view.getUint16(at, this.little);
  }

  u32(at: number): number {
    return this.view.getUint32(at, this.little);
  }

  setU16(at: number, value: number): void {
    this.view.setUint16(at, value, this.little);
  }

  setU32(at: number, value: number): void {
    this.view.setUint32(at, value, this.little);
  }

  /** Where the value of the entry at `entry` lies when it does not fit in the entry; null if it does. */
  valueRange(entry: number): readonly [number, number] | null {
    const size = TYPE_SIZES[this.u16(entry + 2)];
    if (!size) throw new RangeError("unknown TIFF type");
    const length = size * this.u32(entry + 4);
    if (length <= 4) return null;
    const start = this.u32(entry + 8);
    this.check(start + length);
    return [start, start + length];
  }
}

/** The first `length` bytes as Latin-1 text, for comparing identifiers and byte-order marks. */
export function latin1(bytes: Uint8Array, length: number): string {
  return String.fromCharCode(...bytes.subarray(0, length));
}
