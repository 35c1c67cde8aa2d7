/** The file types a chat attachment may have, by name, with the MIME type it is stored and served as. */
export const ATTACHMENT_KINDS = {
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  heic: "image/heic",
  pdf: "application/pdf",
} as const;

/** One of the attachment types, by name ("jpeg", "png", ...). */
export type AttachmentKind = keyof typeof ATTACHMENT_KINDS;

/**
 * Leading bytes `sniffKind` looks at. WebP needs 16 (RIFF header and first chunk) and HEIC 12 for the
 * major brand, but a generic `mif1` HEIF file names its codec among the compatible brands that follow;
 * 64 bytes hold twelve of them, more than any camera writes.
 */
export const SNIFF_BYTES = 64;

const KIND_NAMES = Object.keys(ATTACHMENT_KINDS) as AttachmentKind[];

/** HEVC-coded still images: what iPhones and most Android cameras write. */
const HEIC_BRANDS = new Set(["heic", "heix", "heim", "heis"]);

/**
 * The type the bytes are, from their magic numbers; null for anything else (GIF, SVG, HTML, ZIP, text).
 * The client's Content-Type and file name are never trusted: what is served as `image/png` must be one.
 */
export function sniffKind(head: Uint8Array): AttachmentKind | null {
  if (startsWith(head, 0, [0xff, 0xd8, 0xff])) return "jpeg";
  if (startsWith(head, 0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "png";
  if (isWebp(head)) return "webp";
  if (isHeic(head)) return "heic";
  // At offset 0 only: readers that look further in (up to 1 KB) would accept polyglots we do not want.
  if (ascii(head, 0, 5) === "%PDF-") return "pdf";
  return null;
}

function isWebp(head: Uint8Array): boolean {
  if (ascii(head, 0, 4) !== "RIFF" || ascii(head, 8, 4) !== "WEBP") return false;
  // Every WebP file starts with one of these chunks; a bare "WEBP" tag is not an image.
  const chunk = ascii(head, 12, 4);
  return chunk === "VP8 " || chunk === "VP8L" || chunk === "VP8X";
}

/**
 * ISO-BMFF `ftyp` box with an HEVC still-image major brand, or the generic `mif1` with one of those among
 * its compatible brands. A bare `mif1` may hold AV1 (AVIF) or JPEG tiles, which we would mislabel as
 * `image/heic`; the image-sequence brands (`hevc`, `hevx`, `msf1`) are `image/heic-sequence`, another type.
 */
function isHeic(head: Uint8Array): boolean {
  if (ascii(head, 4, 4) !== "ftyp") return false;
  const major = ascii(head, 8, 4);
  if (HEIC_BRANDS.has(major)) return true;
  if (major !== "mif1") return false;
  const boxSize = ((head[0] ?? 0) << 24) | ((head[1] ?? 0) << 16) | ((head[2] ?? 0) << 8) | (head[3] ?? 0);
  // Compatible brands follow the major brand and the 4-byte minor version, up to the end of the box.
  const end = Math.min(boxSize >>> 0, head.length);
  for (let at = 16; at + 4 <= end; at += 4) {
    if (HEIC_BRANDS.has(ascii(head, at, 4))) return true;
  }
  return false;
}

function startsWith(bytes: Uint8Array, at: number, expected: readonly number[]): boolean {
  if (bytes.length < at + expected.length) return false;
  return expected.every((byte, i) => bytes[at + i] === byte);
}

/** The bytes as Latin-1 text; shorter than `length` when the input ends first, so it never matches then. */
function ascii(bytes: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + length));
}

/**
 * The allowed types from a comma-separated setting, by name ("jpeg,png") or MIME type
 * ("image/jpeg,application/pdf"), mixed freely; unset or blank allows all five. An unknown entry throws,
 * so a typo in the deployment fails loudly instead of silently refusing every upload of that type.
 */
export function parseAttachmentTypes(setting: string | undefined): AttachmentKind[] {
  if (setting === undefined || setting.trim() === "") return [...KIND_NAMES];
  const kinds = new Set<AttachmentKind>();
  for (const raw of setting.split(",")) {
    const entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    const kind = KIND_NAMES.find((name) => name === entry || ATTACHMENT_KINDS[name] === entry);
    if (!kind) {
      const known = KIND_NAMES.map((name) => `${name} (${ATTACHMENT_KINDS[name]})`).join(", ");
      throw new Error(`Unknown attachment type "${raw.trim()}"; expected a comma-separated list of ${known}`);
    }
    kinds.add(kind);
  }
  if (kinds.size === 0) throw new Error(`Attachment type setting "${setting}" names no type`);
  return [...kinds];
}
