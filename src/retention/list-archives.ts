import type { Archive, ArchivesQuery, ArchivesResponse } from "../protocol";
import { ARCHIVE_PREFIX } from "./archive-format";

/** `GET /chat/admin/archives`: the archive objects in R2, oldest day first, one day or all. */
export async function listArchives(bucket: R2Bucket, q: ArchivesQuery): Promise<ArchivesResponse> {
  const listed = await bucket.list({
    prefix: q.day ? `${ARCHIVE_PREFIX}${q.day}/` : ARCHIVE_PREFIX,
    limit: q.limit,
    ...(q.cursor ? { cursor: q.cursor } : {}),
    include: ["customMetadata"],
  });
  return {
    archives: listed.objects.map(
      (object): Archive => ({
        key: object.key,
        shard: Number(object.customMetadata?.shard ?? 0),
        day: object.customMetadata?.day ?? "",
        messages: Number(object.customMetadata?.messages ?? 0),
        first: object.customMetadata?.first ?? "",
        last: object.customMetadata?.last ?? "",
        size: object.size,
        uploadedAt: object.uploaded.toISOString(),
      }),
    ),
    nextCursor: listed.truncated ? listed.cursor : null,
  };
}
