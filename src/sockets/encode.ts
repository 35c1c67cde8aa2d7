import type { ServerEventName, ServerEventPayload } from "../protocol";

/** A server event as the native protocol's frame, `{"event","data"}`. */
export function encode<K extends ServerEventName>(event: K, data: ServerEventPayload<K>): string {
  return JSON.stringify({ event, data } satisfies { event: K; data: ServerEventPayload<K> });
}

/** The native frame of an event whose data is JSON already (a stored message, say): no second stringify. */
export function frameOf(event: ServerEventName, dataJson: string): string {
  return `{"event":"${event}","data":${dataJson}}`;
}

/** Sends without throwing: a socket that is closing must never break delivery to the others. */
export function sendFrame(ws: WebSocket, frame: string): void {
  try {
    ws.send(frame);
  } catch (error) {
    console.warn("dropping frame to a closed socket", error instanceof Error ? error.message : error);
  }
}
