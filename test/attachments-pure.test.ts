import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { limitSize, readHead } from "../src/attachments/limit-size";
import {
  type ATTACHMENT_KINDS,
  parseAttachmentTypes,
  SNIFF_BYTES,
  sniffKind,
} from "../src/attachments/sniff";
import { findGpsTag, MalformedJpegError, stripJpegLocation } from "../src/attachments/strip-gps";
import {
  bytes,
  type ExifOptions,
  exif,
  IPTC,
  indexOf,
  JPEG_HEAD,
  JPEG_SCAN,
  JPEG_SOS,
  jpegWith,
  MPF,
  segment,
  TINY_JPEG,
  XMP,
} from "./fixtures/jpeg";

const SEED = 20_261_204;
const encoder = new TextEncoder();

function chunked(input: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= input.length) return controller.close();
      controller.enqueue(input.slice(at, at + size));
      at += size;
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const reader = stream.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) parts.push(next.value);
  return bytes(...parts);
}

const strip = (input: Uint8Array, size = input.length || 1) =>
  collect(chunked(input, size).pipeThrough(stripJpegLocation()));

/** Strips `parts` fed as exactly those chunks, to put a boundary at a chosen byte. */
const stripParts = (...parts: Uint8Array[]) => {
  const queue = [...parts];
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = queue.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(next.slice());
    },
  });
  return collect(source.pipeThrough(stripJpegLocation()));
};

const CHUNK_SIZES = [1, 2, 3, 4, 7, 64, Number.MAX_SAFE_INTEGER];

describe("sniffing an attachment's type from its first bytes", () => {
  const samples: Record<keyof typeof ATTACHMENT_KINDS, Uint8Array[]> = {
    jpeg: [TINY_JPEG, bytes([0xff, 0xd8, 0xff, 0xe1])],
    png: [bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], [0, 0, 0, 13], "IHDR")],
    webp: [
      bytes("RIFF", [0x24, 0, 0, 0], "WEBPVP8 ", [0x18, 0, 0, 0]),
      bytes("RIFF", [0x24, 0, 0, 0], "WEBPVP8L"),
      bytes("RIFF", [0x24, 0, 0, 0], "WEBPVP8X"),
    ],
    heic: [
      bytes([0, 0, 0, 0x18], "ftypheic", [0, 0, 0, 0], "mif1heic"),
      bytes([0, 0, 0, 0x18], "ftypheix", [0, 0, 0, 0], "mif1heix"),
      bytes([0, 0, 0, 0x14], "ftypheim", [0, 0, 0, 0], "mif1"),
      bytes([0, 0, 0, 0x14], "ftypheis", [0, 0, 0, 0], "mif1"),
      // Samsung and others: the generic HEIF brand first, HEVC among the compatible ones.
      bytes([0, 0, 0, 0x20], "ftypmif1", [0, 0, 0, 0], "mif1MiHEmiafheic", [0, 0, 0, 0]),
    ],
    pdf: [bytes("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")],
  };

  it("recognises each allowed type by its magic number, from SNIFF_BYTES bytes", () => {
    for (const [kind, heads] of Object.entries(samples)) {
      for (const head of heads) {
        expect(sniffKind(head), kind).toBe(kind);
        expect(sniffKind(bytes(head, new Array(100).fill(0)).subarray(0, SNIFF_BYTES)), kind).toBe(kind);
      }
    }
  });

  it("refuses impostors and types we do not serve", () => {
    const impostors = {
      html: bytes("<!DOCTYPE html><html><script>alert(1)</script>"),
      "html claiming PNG": bytes("<html>\x89PNG\r\n\x1a\n"),
      gif: bytes("GIF89a", [1, 0, 1, 0]),
      svg: bytes('<svg xmlns="http://www.w3.org/2000/svg"/>'),
      "svg with XML prolog": bytes('<?xml version="1.0"?><svg/>'),
      zip: bytes("PK\x03\x04", [20, 0, 0, 0]),
      text: bytes("hello, this is not a picture"),
      empty: new Uint8Array(0),
      "three bytes of PNG": bytes([0x89, 0x50, 0x4e]),
      "two bytes of JPEG": bytes([0xff, 0xd8]),
      "PDF not at the start": bytes(" %PDF-1.7"),
      "RIFF audio": bytes("RIFF", [0x24, 0, 0, 0], "WAVEfmt "),
      "WebP tag without a chunk": bytes("RIFF", [0x24, 0, 0, 0], "WEBP"),
      avif: bytes([0, 0, 0, 0x1c], "ftypavif", [0, 0, 0, 0], "avifmif1miaf"),
      "generic HEIF holding AV1": bytes([0, 0, 0, 0x1c], "ftypmif1", [0, 0, 0, 0], "mif1avifmiaf"),
      "HEIF image sequence": bytes([0, 0, 0, 0x18], "ftyphevc", [0, 0, 0, 0], "msf1hevc"),
      mp4: bytes([0, 0, 0, 0x18], "ftypisom", [0, 0, 2, 0], "isomiso2"),
      // A compatible brand past the end of the ftyp box belongs to the next box.
      "HEVC brand outside the ftyp box": bytes([0, 0, 0, 0x10], "ftypmif1", [0, 0, 0, 0], "heic"),
    };
    for (const [name, head] of Object.entries(impostors)) expect(sniffKind(head), name).toBeNull();
  });
});

describe("the allowed-types setting", () => {
  it("allows all five types when unset or blank", () => {
    for (const setting of [undefined, "", "  "]) {
      expect(parseAttachmentTypes(setting)).toEqual(["jpeg", "png", "webp", "heic", "pdf"]);
    }
  });

  it("accepts names and MIME types, mixed, in any case, with spaces and a trailing comma", () => {
    expect(parseAttachmentTypes("jpeg,png,pdf")).toEqual(["jpeg", "png", "pdf"]);
    expect(parseAttachmentTypes("image/jpeg,application/pdf")).toEqual(["jpeg", "pdf"]);
    expect(parseAttachmentTypes(" JPEG , image/WebP, heic,")).toEqual(["jpeg", "webp", "heic"]);
    expect(parseAttachmentTypes("jpeg,image/jpeg")).toEqual(["jpeg"]);
  });

  it("throws on an unknown entry, naming it and what is allowed", () => {
    expect(() => parseAttachmentTypes("jpeg,gif")).toThrow(/Unknown attachment type "gif".*image\/jpeg/);
    expect(() => parseAttachmentTypes("image/svg+xml")).toThrow('"image/svg+xml"');
    expect(() => parseAttachmentTypes("jpg")).toThrow('"jpg"');
    expect(() => parseAttachmentTypes(",")).toThrow("names no type");
  });
});

describe("stripping location from a JPEG", () => {
  for (const order of ["II", "MM"] as const) {
    it(`removes the GPS IFD and keeps the orientation (${order} byte order), however the bytes are chunked`, async () => {
      const { app1, latitude, longitude, orientationEntry } = exif(order);
      const input = jpegWith(app1, XMP, IPTC);
      const scanAt = input.length - JPEG_SCAN.length;
      expect(findGpsTag(input)).toBe(true);
      expect(indexOf(input, latitude)).toBeGreaterThan(0);

      for (const size of CHUNK_SIZES) {
        const output = await strip(input, size);
        expect(output.length, `chunks of ${size}`).toBe(input.length);
        expect(findGpsTag(output), `chunks of ${size}`).toBe(false);
        expect(indexOf(output, latitude), `chunks of ${size}`).toBe(-1);
        expect(indexOf(output, longitude), `chunks of ${size}`).toBe(-1);
        expect(indexOf(output, orientationEntry), `chunks of ${size}`).toBeGreaterThan(0);
        expect(indexOf(output, bytes("Exif\0\0")), `chunks of ${size}`).toBeGreaterThan(0);
        expect(indexOf(output, bytes("Spana\0")), `chunks of ${size}`).toBeGreaterThan(0);
        expect(output.subarray(scanAt), `chunks of ${size}`).toEqual(input.subarray(scanAt));
        expect(output.subarray(0, 20), "SOI and JFIF").toEqual(input.subarray(0, 20));
      }
    });
  }

  it("blanks XMP, which can spell the location out, and Photoshop/IPTC (APP13), which can name the city", async () => {
    const input = jpegWith(XMP, IPTC);
    const output = await strip(input, 5);
    expect(output.length).toBe(input.length);
    for (const gone of ["GPSLatitude", "http://ns.adobe.com/xap/1.0/", "Photoshop 3.0", "8BIM", "Berlin"]) {
      expect(indexOf(output, bytes(gone)), gone).toBe(-1);
    }
    expect(output.subarray(input.length - JPEG_SCAN.length)).toEqual(JPEG_SCAN);
  });

  it("keeps what decoders need: the tiny JPEG passes through byte for byte", async () => {
    for (const size of CHUNK_SIZES) expect(await strip(TINY_JPEG, size)).toEqual(TINY_JPEG);
  });

  it("keeps fill bytes before a marker and zeroes stray bytes between segments", async () => {
    const jfifEnd = 2 + 18;
    const input = bytes(
      TINY_JPEG.subarray(0, jfifEnd),
      [0x12, 0x34, 0xff, 0x00, 0xff, 0xff],
      TINY_JPEG.subarray(jfifEnd),
    );
    const expected = bytes(
      TINY_JPEG.subarray(0, jfifEnd),
      [0, 0, 0, 0, 0xff, 0xff],
      TINY_JPEG.subarray(jfifEnd),
    );
    for (const size of [1, 3, Number.MAX_SAFE_INTEGER]) expect(await strip(input, size)).toEqual(expected);
  });

  describe("malformed EXIF never throws and never leaks", () => {
    const cases: Record<string, ExifOptions> = {
      "a GPS IFD offset past the end": { gpsOffset: 0xffff_0000 },
      "a latitude offset past the end": { latitudeOffset: 0xffff_fff0 },
      "an IFD0 entry count past the end": { ifd0Count: 0xffff },
      "a GPS IFD that is IFD0 itself": { gpsOffset: 8 },
      "a GPS IFD inside the TIFF header": { gpsOffset: 2 },
    };
    for (const order of ["II", "MM"] as const) {
      for (const [name, options] of Object.entries(cases)) {
        it(`${name} (${order}): the EXIF segment is blanked`, async () => {
          const { app1, latitude } = exif(order, options);
          const input = jpegWith(app1);
          for (const size of [1, 7, Number.MAX_SAFE_INTEGER]) {
            const output = await strip(input, size);
            expect(output.length).toBe(input.length);
            expect(findGpsTag(output)).toBe(false);
            expect(indexOf(output, latitude)).toBe(-1);
            expect(indexOf(output, bytes("Exif\0\0"))).toBe(-1);
            expect(output.subarray(input.length - JPEG_SCAN.length)).toEqual(JPEG_SCAN);
          }
        });
      }

      it(`an IFD chain that loops back to IFD0 (${order}) still loses its GPS and keeps the rest`, async () => {
        const { app1, latitude, orientationEntry } = exif(order, { ifd0Next: 8 });
        const output = await strip(jpegWith(app1), 3);
        expect(findGpsTag(output)).toBe(false);
        expect(indexOf(output, latitude)).toBe(-1);
        expect(indexOf(output, orientationEntry)).toBeGreaterThan(0);
      });
    }

    it("a TIFF header that is cut short or has no byte order", async () => {
      for (const tiff of [bytes("II"), bytes("XX", [42, 0, 8, 0, 0, 0]), new Uint8Array(0)]) {
        const input = jpegWith(segment(0xe1, bytes("Exif\0\0", tiff)));
        const output = await strip(input, 1);
        expect(output.length).toBe(input.length);
        expect(indexOf(output, bytes("Exif"))).toBe(-1);
      }
    });

    it("random corruption of the EXIF data", async () => {
      const { app1 } = exif("II");
      const tiffAt = 4 + 6;
      const corruption = fc.array(fc.tuple(fc.nat(app1.length - tiffAt - 1), fc.nat(255)), {
        minLength: 1,
        maxLength: 8,
      });
      await fc.assert(
        fc.asyncProperty(corruption, fc.constantFrom(1, 5, 4096), async (edits, size) => {
          const broken = app1.slice();
          for (const [at, value] of edits) broken[tiffAt + at] = value;
          const input = jpegWith(broken);
          const output = await strip(input, size);
          expect(output.length).toBe(input.length);
          expect(findGpsTag(output)).toBe(false);
          expect(output.subarray(input.length - JPEG_SCAN.length)).toEqual(JPEG_SCAN);
        }),
        { seed: SEED, numRuns: 200 },
      );
    });
  });

  it("passes anything that does not start with FF D8 through unchanged", async () => {
    const png = bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "Exif\0\0MM GPS and more");
    for (const input of [png, bytes([0xff]), bytes([0xd8, 0xff]), new Uint8Array(0)]) {
      for (const size of [1, 3, Number.MAX_SAFE_INTEGER]) expect(await strip(input, size)).toEqual(input);
    }
  });

  it("errors the stream when a JPEG ends before its image data or breaks a segment length", async () => {
    const { app1 } = exif("MM");
    const truncated = jpegWith(app1).subarray(0, 40);
    await expect(strip(truncated, 7)).rejects.toBeInstanceOf(MalformedJpegError);
    await expect(strip(bytes([0xff, 0xd8]), 1)).rejects.toThrow("ends before its image data");
    await expect(strip(bytes([0xff, 0xd8, 0xff, 0xe1, 0x00, 0x01]), 1)).rejects.toThrow("below the minimum");
  });
});

describe("stripping location from a multi-picture JPEG (further JPEGs after the main image's end)", () => {
  // As phones write them (MPF): the main photo, then its HDR gain map and depth map, each a whole JPEG.
  const exifs = { main: exif("II"), gainMap: exif("MM"), depthMap: exif("II") };
  const main = jpegWith(exifs.main.app1, MPF);
  const gainMap = jpegWith(exifs.gainMap.app1, XMP);
  const depthMap = jpegWith(IPTC, exifs.depthMap.app1);
  const photo = bytes(main, gainMap, depthMap);

  it("the checker finds a location that only an embedded image holds", () => {
    expect(findGpsTag(bytes(TINY_JPEG, gainMap))).toBe(true);
    expect(findGpsTag(bytes(TINY_JPEG, TINY_JPEG, depthMap))).toBe(true);
    expect(findGpsTag(bytes(TINY_JPEG, TINY_JPEG))).toBe(false);
  });

  it("scrubs every image as it would on its own, keeps the length, however the bytes are chunked", async () => {
    const expected = bytes(await strip(main), await strip(gainMap), await strip(depthMap));
    for (const size of CHUNK_SIZES) {
      const output = await strip(photo, size);
      expect(output.length, `chunks of ${size}`).toBe(photo.length);
      expect(output, `chunks of ${size}`).toEqual(expected);
      expect(findGpsTag(output), `chunks of ${size}`).toBe(false);
      // A second check that shares nothing with either parser: the coordinates' bytes are gone.
      for (const { latitude, longitude, orientationEntry } of Object.values(exifs)) {
        expect(indexOf(output, latitude), `chunks of ${size}`).toBe(-1);
        expect(indexOf(output, longitude), `chunks of ${size}`).toBe(-1);
        expect(indexOf(output, orientationEntry), `chunks of ${size}`).toBeGreaterThan(0);
      }
      for (const gone of ["GPSLatitude", "Berlin"]) expect(indexOf(output, bytes(gone)), gone).toBe(-1);
      // The multi-picture index and every image's scan stay where they were.
      expect(indexOf(output, MPF)).toBe(indexOf(photo, MPF));
      for (const end of [main.length, main.length + gainMap.length, photo.length]) {
        expect(output.subarray(end - JPEG_SCAN.length, end)).toEqual(JPEG_SCAN);
      }
    }
  });

  it("finds an image's end and the next one's start wherever a chunk boundary falls", async () => {
    const input = bytes(TINY_JPEG, gainMap);
    const expected = bytes(TINY_JPEG, await strip(gainMap));
    const eoi = TINY_JPEG.length - 2;
    // FF | D9 | FF | D8 ...: the end and the next start cut between every byte at once.
    const parts = [eoi + 1, eoi + 2, eoi + 3].map((at) => input.subarray(at - 1, at));
    expect(await stripParts(input.subarray(0, eoi), ...parts, input.subarray(eoi + 3))).toEqual(expected);
    // And every place a single boundary can fall.
    for (let cut = 0; cut <= input.length; cut++) {
      expect(await stripParts(input.subarray(0, cut), input.subarray(cut)), `cut at ${cut}`).toEqual(
        expected,
      );
    }
  });

  it("takes no stuffed byte, restart marker or fill byte in the scan for the image's end", async () => {
    // FF 00 is a data byte 0xFF, FF D0-D7 restart markers; D9 after them is data; FF FF D9 is EOI after fill.
    const data = [0x3f, 0xff, 0x00, 0xd9, 0xff, 0xd0, 0xd9, 0xff, 0xd7, 0xff, 0x00, 0xff, 0xff, 0xd9];
    const first = bytes(JPEG_HEAD, JPEG_SOS, data);
    const input = bytes(first, gainMap);
    const expected = bytes(first, await strip(gainMap));
    for (const size of CHUNK_SIZES) expect(await strip(input, size), `chunks of ${size}`).toEqual(expected);
    for (let cut = first.length - data.length; cut <= first.length + 4; cut++) {
      expect(await stripParts(input.subarray(0, cut), input.subarray(cut)), `cut at ${cut}`).toEqual(
        expected,
      );
    }
  });

  it("passes whatever follows an image's end unchanged unless it starts with FF D8", async () => {
    const trailers = {
      "one byte": bytes([0xff]),
      "a vendor trailer": bytes("SEFH", [0, 0, 0, 0], "Image_UTC_Data1733250000000", "SEFT"),
      // Not looked for: a JPEG that does not start right at the end (a known gap, see stripJpegLocation).
      "padding before a JPEG": bytes([0, 0], gainMap),
      "fill bytes before a JPEG": bytes([0xff], gainMap),
      "another EOI": bytes([0xff, 0xd9, 0xff, 0xe1, 0x00, 0x02]),
    };
    for (const [name, trailer] of Object.entries(trailers)) {
      const input = bytes(TINY_JPEG, trailer);
      for (const size of [1, 2, 7, Number.MAX_SAFE_INTEGER]) {
        expect(await strip(input, size), `${name}, chunks of ${size}`).toEqual(input);
      }
    }
  });

  it("errors the stream when an embedded JPEG ends before its image data", async () => {
    await expect(strip(bytes(TINY_JPEG, [0xff, 0xd8]), 1)).rejects.toThrow(
      "JPEG 1 embedded after the main image ends before its image data",
    );
    const cut = bytes(main, gainMap.subarray(0, 60));
    await expect(strip(cut, 7)).rejects.toBeInstanceOf(MalformedJpegError);
    await expect(strip(bytes(main, [0xff, 0xd8, 0xff, 0xe1, 0x00, 0x01]), 2)).rejects.toThrow(
      "below the minimum",
    );
  });
});

describe("limiting an upload's size", () => {
  class TooLarge extends Error {}
  const tooLarge = () => new TooLarge("attachment too large");

  it("passes a stream at or under the limit unchanged", async () => {
    const input = bytes(new Array(1000).fill(7));
    expect(await collect(chunked(input, 64).pipeThrough(limitSize(1000, tooLarge)))).toEqual(input);
  });

  it("errors as soon as the total passes the limit, without passing the excess on", async () => {
    const seen: number[] = [];
    const limited = chunked(bytes(new Array(1000).fill(7)), 64).pipeThrough(limitSize(999, tooLarge));
    const counted = limited.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          seen.push(chunk.length);
          controller.enqueue(chunk);
        },
      }),
    );
    await expect(collect(counted)).rejects.toThrow(TooLarge);
    expect(seen.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(999);
  });

  it("fails the writer too, so a pipe into storage rejects", async () => {
    const sink = new WritableStream<Uint8Array>();
    await expect(
      chunked(bytes(new Array(10).fill(1)), 3)
        .pipeThrough(limitSize(5, tooLarge))
        .pipeTo(sink),
    ).rejects.toThrow(TooLarge);
  });

  it("refuses a limit that is not a non-negative integer", () => {
    for (const max of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => limitSize(max, tooLarge), String(max)).toThrow(RangeError);
    }
  });
});

describe("reading an upload's head", () => {
  const input = bytes(Array.from({ length: 9 }, (_, i) => i + 1));

  it("reads at least n bytes across chunk boundaries and replays them before the rest", async () => {
    const cases: Array<[chunk: number, n: number, headLength: number]> = [
      [3, 5, 6], // n inside the second chunk
      [5, 5, 5], // n exactly at a boundary
      [9, 5, 9], // one chunk holds it all
      [1, 5, 5],
      [4, 0, 0],
    ];
    for (const [chunk, n, headLength] of cases) {
      const { head, rest } = await readHead(chunked(input, chunk), n);
      expect(head, `chunks of ${chunk}, n=${n}`).toEqual(input.subarray(0, headLength));
      expect(await collect(rest), `chunks of ${chunk}, n=${n}`).toEqual(input);
    }
  });

  it("returns what there is when the stream is shorter than n, or empty", async () => {
    const short = await readHead(chunked(input.subarray(0, 2), 1), SNIFF_BYTES);
    expect(short.head).toEqual(input.subarray(0, 2));
    expect(await collect(short.rest)).toEqual(input.subarray(0, 2));

    const empty = await readHead(chunked(new Uint8Array(0), 1), SNIFF_BYTES);
    expect(empty.head.length).toBe(0);
    expect(await collect(empty.rest)).toEqual(new Uint8Array(0));
  });

  it("pulls the rest only as it is read, and passes a cancel on to the source", async () => {
    let pulls = 0;
    let cancelled: unknown = null;
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls++;
        controller.enqueue(new Uint8Array(1024));
      },
      cancel(reason) {
        cancelled = reason;
      },
    });
    // The source never ends: draining it up front would never return.
    const { head, rest } = await readHead(source, 2048);
    expect(head.length).toBe(2048);
    const reader = rest.getReader();
    for (let i = 0; i < 3; i++) await reader.read();
    expect(pulls).toBeLessThanOrEqual(2 + 3 + 2);
    await reader.cancel("stop");
    expect(cancelled).toBe("stop");
  });

  it("feeds a sniff-then-strip-then-limit pipeline", async () => {
    const { app1, latitude } = exif("II");
    const upload = jpegWith(app1, XMP);
    const { head, rest } = await readHead(chunked(upload, 16), SNIFF_BYTES);
    expect(sniffKind(head)).toBe("jpeg");
    const stored = await collect(
      rest
        .pipeThrough(stripJpegLocation())
        .pipeThrough(limitSize(upload.length, () => new Error("too large"))),
    );
    expect(stored.length).toBe(upload.length);
    expect(findGpsTag(stored)).toBe(false);
    expect(indexOf(stored, latitude)).toBe(-1);
    expect(indexOf(stored, encoder.encode("GPSLatitude"))).toBe(-1);
  });
});
