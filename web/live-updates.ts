// The list's own connection line: parties' inbox or an admin's feed. The chat pane has its own.

import type { ChatStatus } from "../sdk/src";
import { $ } from "./dom";

const LABELS: Record<ChatStatus, { label: string; kind: string }> = {
  idle: { label: "", kind: "" },
  connecting: { label: "Connecting…", kind: "waiting" },
  open: { label: "Live", kind: "live" },
  offline: { label: "Reconnecting…", kind: "waiting" },
  stopped: { label: "Updates off", kind: "closed" },
};

/**
 * Shows `status` next to the list's title, and calls `caughtUp` when the connection is back after
 * a gap: feeds do not replay what they missed, so the list is read again.
 */
export function watchLiveUpdates(
  feed: { status: ChatStatus; on(event: "status", handler: (status: ChatStatus) => void): unknown },
  caughtUp: () => void,
): void {
  let wasLost = false;
  const show = (status: ChatStatus) => {
    const { label, kind } = LABELS[status];
    $("list-live").textContent = label;
    $("list-live").className = `badge ${kind}`;
    if (status === "offline") wasLost = true;
    if (status === "open" && wasLost) {
      wasLost = false;
      caughtUp();
    }
  };
  feed.on("status", show);
  show(feed.status);
}
