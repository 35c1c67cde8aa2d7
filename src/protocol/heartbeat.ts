/**
 * The client heartbeat. Send exactly `PING_FRAME` (byte for byte) every 30 s or so; the runtime
 * answers `PONG_FRAME` without waking the object, so idle rooms stay hibernated. A client that
 * hears no pong within a few seconds should treat the socket as dead and reconnect.
 */
export const PING_FRAME = '{"event":"ping","data":{}}';
export const PONG_FRAME = '{"event":"pong","data":{}}';
