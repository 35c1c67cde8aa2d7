import { latin1, scrubExif } from "./exif";
import { APP0, APP1, APP2, APP14, APP15, COM, EOI, isStandalone, SOI, SOS } from "./jpeg-markers";

export { findGpsTag } from "./find-gps";

/**
 * Application segments kept, by marker and the identifier their payload starts with: what decoders
 * need (JFIF, the ICC colour profile, the multi-picture index, Adobe's colour transform) and EXIF,
 * which is scrubbed. Every other APPn and COM is blanked: XMP can hold `exif:GPSLatitude`, APP13
 * (Photoshop/IPTC) city and sub-location, vendor segments GPS tracks (GoPro's APP6), and we cannot
 * read them all.
 */
const KEPT_SEGMENTS: ReadonlyArray<readonly [number, string]> = [
  [APP0, "JFIF\0"],
  [APP0, "JFXX\0"],
  [APP1, "Exif\0\0"],
  [APP2, "ICC_PROFILE\0"],
  [APP2, "MPF\0"],
  [APP14, "Adobe"],
];

/** A file that starts like a JPEG but breaks the format before its image data, or ends there. */
export class MalformedJpegError extends Error {}

/**
 * Removes location metadata from a JPEG as it streams by: the GPS IFD and GPSInfo pointer of its
 * EXIF (the rest, orientation included, stays), and the segments that may hold a location in
 * another form. Only the segments before each image's data are parsed, each buffered on its own (at
 * most 64 KB); image data passes through untouched, watched only for its end (EOI). A JPEG that
 * starts right after that end is scrubbed the same way, and so on: multi-picture files (MPF: a
 * phone's HDR gain map, depth map or second lens) append whole JPEGs with their own EXIF and XMP.
 * Anything else after an end passes through unchanged. Output is exactly as long as the input
 * (removed data is zeroed, removed segments become zero-filled comments), so a declared
 * Content-Length still holds: R2 only stores streams of known length (`FixedLengthStream`), and
 * multi-picture offsets stay right. EXIF that cannot be parsed safely is blanked whole. Input that
 * does not start with FF D8 passes unchanged; one that breaks the segment structure before an
 * image's data, main or embedded, errors the stream with `onMalformed`.
 */
export function stripJpegLocation(
  onMalformed: (reason: string) => Error = (reason) => new MalformedJpegError(reason),
): TransformStream<Uint8Array, Uint8Array> {
  const scrubber = new JpegScrubber(onMalformed);
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      for (const out of scrubber.push(chunk)) controller.enqueue(out);
    },
    flush(controller) {
      for (const out of scrubber.end()) controller.enqueue(out);
    },
  });
}

/** Where the scrubber is: an image's first two bytes, its header's segments, its scan, or past all images. */
type Phase = "soi" | "seek" | "marker" | "length" | "segment" | "scan" | "pass";

/**
 * The segment walk as a byte-driven state machine, so a chunk may end anywhere: inside a marker, its
 * fill bytes, the length field, a payload, or between the FF and D9 of an EOI.
 */
class JpegScrubber {
  private phase: Phase = "soi";
  /** 0 for the main image, then 1, 2... for each JPEG that starts right after the previous one's EOI. */
  private image = 0;
  /** The image's first bytes, until there are two to tell whether they are FF D8. */
  private first: number[] = [];
  /** Bytes between segments that are not a marker; decoders skip them, we zero them. */
  private strays = 0;
  /** 0xFF bytes seen in a row before the marker code (one, or more with fill bytes). */
  private ffRun = 0;
  private lengthHigh: number | null = null;
  private segment = new Uint8Array(0);
  private filled = 0;
  /** The scan so far ends in 0xFF, so the next chunk may start with the D9 of an EOI. */
  private scanEndsInFf = false;

  constructor(private readonly onMalformed: (reason: string) => Error) {}

  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.phase === "pass") {
        out.push(i === 0 ? chunk : chunk.subarray(i));
        break;
      }
      if (this.phase === "scan") {
        const end = this.findEoi(chunk, i);
        if (end === -1) {
          out.push(i === 0 ? chunk : chunk.subarray(i));
          break;
        }
        out.push(chunk.subarray(i, end));
        i = end;
        // What follows an image's end is read like a file's start: another JPEG, or bytes to pass.
        this.image++;
        this.first = [];
        this.phase = "soi";
        continue;
      }
      if (this.phase === "segment") {
        const take = Math.min(this.segment.length - this.filled, chunk.length - i);
        this.segment.set(chunk.subarray(i, i + take), this.filled);
        this.filled += take;
        i += take;
        if (this.filled === this.segment.length) this.finishSegment(out);
        continue;
      }
      this.step(chunk[i] ?? 0, out);
      i++;
    }
    // Strays go out with each chunk, so a run of them costs no more memory than the chunk did.
    if (this.phase === "seek" && this.strays > 0) out.push(this.prefix(0, null));
    return out;
  }

  end(): Uint8Array[] {
    if (this.phase === "soi") return this.first.length > 0 ? [Uint8Array.from(this.first)] : [];
    if (this.phase !== "scan" && this.phase !== "pass") {
      const which = this.image === 0 ? "JPEG" : `JPEG ${this.image} embedded after the main image`;
      throw this.onMalformed(`${which} ends before its image data`);
    }
    return [];
  }

  /**
   * Where the EOI in `chunk` ends, searching from `from`; -1 when it is not in this chunk. In
   * entropy-coded data a 0xFF is followed by 0x00 (stuffing), RST0-7, fill 0xFF or a marker, so the
   * first FF D9 is the image's end; only its FF bytes are looked at, found by `indexOf`. The tables
   * and scan headers between a progressive image's scans pass along with it: valid ones never hold
   * FF D9, and even a false end only matters when FF D8 follows it.
   */
  private findEoi(chunk: Uint8Array, from: number): number {
    if (this.scanEndsInFf && chunk[from] === EOI) return from + 1;
    for (let ff = chunk.indexOf(0xff, from); ff !== -1; ff = chunk.indexOf(0xff, ff + 1)) {
      if (ff + 1 === chunk.length) {
        this.scanEndsInFf = true;
        return -1;
      }
      if (chunk[ff + 1] === EOI) return ff + 2;
    }
    this.scanEndsInFf = false;
    return -1;
  }

  private step(byte: number, out: Uint8Array[]): void {
    switch (this.phase) {
      case "soi":
        this.first.push(byte);
        if (this.first.length < 2) return;
        this.phase = this.first[0] === 0xff && this.first[1] === SOI ? "seek" : "pass";
        out.push(Uint8Array.from(this.first));
        return;
      case "seek":
        if (byte === 0xff) {
          this.ffRun = 1;
          this.phase = "marker";
        } else {
          this.strays++;
        }
        return;
      case "marker":
        if (byte === 0xff) {
          this.ffRun++;
        } else if (byte === 0x00) {
          // FF 00 is byte stuffing inside scan data; out here it is a stray like any other.
          this.strays += this.ffRun + 1;
          this.phase = "seek";
        } else {
          this.onMarker(byte, out);
        }
        return;
      case "length":
        if (this.lengthHigh === null) {
          this.lengthHigh = byte;
          return;
        }
        this.startSegment((this.lengthHigh << 8) | byte, out);
        return;
      default:
        return;
    }
  }

  private onMarker(marker: number, out: Uint8Array[]): void {
    if (isStandalone(marker)) {
      out.push(this.prefix(this.ffRun, marker));
      this.phase = "seek";
      return;
    }
    // Fill bytes go out now; the segment's own FF is written with the segment.
    if (this.strays > 0 || this.ffRun > 1) out.push(this.prefix(this.ffRun - 1, null));
    this.segment = new Uint8Array(2);
    this.segment[1] = marker;
    this.lengthHigh = null;
    this.phase = "length";
  }

  /** Zeros for the strays so far, then `ffs` 0xFF bytes, then the marker code if any. */
  private prefix(ffs: number, marker: number | null): Uint8Array {
    const bytes = new Uint8Array(this.strays + ffs + (marker === null ? 0 : 1));
    bytes.fill(0xff, this.strays, this.strays + ffs);
    if (marker !== null) bytes[bytes.length - 1] = marker;
    this.strays = 0;
    return bytes;
  }

  private startSegment(length: number, out: Uint8Array[]): void {
    if (length < 2) throw this.onMalformed(`JPEG segment length ${length} is below the minimum of 2`);
    const marker = this.segment[1] ?? 0;
    this.segment = new Uint8Array(2 + length);
    this.segment.set([0xff, marker, length >> 8, length & 0xff]);
    this.filled = 4;
    this.phase = "segment";
    if (this.filled === this.segment.length) this.finishSegment(out);
  }

  private finishSegment(out: Uint8Array[]): void {
    // SOS's own header is a segment like the others; the entropy-coded data follows it.
    const isScan = this.segment[1] === SOS;
    scrubSegment(this.segment);
    out.push(this.segment);
    this.segment = new Uint8Array(0);
    this.phase = isScan ? "scan" : "seek";
    this.scanEndsInFf = false;
  }
}

/** Scrubs one whole segment (FF, marker, length, payload) in place; its length never changes. */
function scrubSegment(segment: Uint8Array): void {
  const marker = segment[1] ?? 0;
  const isMetadata = (marker >= APP0 && marker <= APP15) || marker === COM;
  if (!isMetadata) return;
  const payload = segment.subarray(4);
  const kept = KEPT_SEGMENTS.find(([m, id]) => m === marker && latin1(payload, id.length) === id);
  if (kept && (marker !== APP1 || scrubExif(payload.subarray(6)))) return;
  // Blanked rather than cut out, so the output keeps the input's length.
  segment[1] = COM;
  payload.fill(0);
}
