/**
 * Passes bytes through until more than `maxBytes` have gone by, then errors the stream with
 * `onTooLarge()`. Whatever consumes the stream (an R2 `put`) fails with it, so nothing is stored; a
 * declared Content-Length is not trusted, since a client can send more than it announced.
 */
export function limitSize(
  maxBytes: number,
  onTooLarge: () => Error,
): TransformStream<Uint8Array, Uint8Array> {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    throw new RangeError(`limitSize needs a non-negative integer, got ${maxBytes}`);
  }
  let total = 0;
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      total += chunk.byteLength;
      // Throwing errors both sides: the writer's pending write rejects and the reader sees the error.
      if (total > maxBytes) throw onTooLarge();
      controller.enqueue(chunk);
    },
  });
}

/**
 * Reads the stream's first `n` bytes (fewer if it ends first; possibly more, to the end of the chunk
 * that reached `n`) so the type can be sniffed, and gives back a stream that yields those bytes and
 * then the rest. The rest is pulled on demand, so memory stays at about `n` plus one chunk.
 */
export async function readHead(
  stream: ReadableStream<Uint8Array>,
  n: number,
): Promise<{ head: Uint8Array; rest: ReadableStream<Uint8Array> }> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  let done = false;
  while (length < n) {
    const next = await reader.read();
    if (next.done) {
      done = true;
      break;
    }
    chunks.push(next.value);
    length += next.value.byteLength;
  }
  const head = concat(chunks, length);

  let headSent = false;
  const rest = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headSent) {
        headSent = true;
        if (head.byteLength > 0) {
          controller.enqueue(head);
          return;
        }
      }
      if (done) {
        controller.close();
        return;
      }
      const next = await reader.read();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return { head, rest };
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
