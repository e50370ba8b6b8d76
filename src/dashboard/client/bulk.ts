// "Replay all shown": `POST /api/events/replay` with the list's status and provider, after a
// confirmation that says exactly what will be queued.
import { ApiError, api } from "./api";
import { confirmAction } from "./confirm";
import type { Ctx } from "./context";
import { setMessage } from "./dom";
import { bulkReplayText } from "./format";
import type { BulkReplayAnswer, BulkStatus } from "./types";

export interface BulkReplayRequest {
  status: BulkStatus;
  provider?: string;
  /** How many the list shows, and whether it has more pages not yet loaded. */
  shown: number;
  more: boolean;
}

/** The consumer picks replays up within seconds; refresh once they had time to run. */
const REFRESH_AFTER_MS = 2500;

export async function replayAllShown(ctx: Ctx, request: BulkReplayRequest, message: HTMLElement): Promise<void> {
  const { title, text, ok } = bulkReplayText(request);
  if (!(await confirmAction(title, text, ok))) return;
  setMessage(message, "Queueing replays…", "info");
  try {
    const result = await api<BulkReplayAnswer>("/api/events/replay", {
      method: "POST",
      json: { status: request.status, ...(request.provider ? { provider: request.provider } : {}) },
    });
    const n = result.body?.replayed;
    setMessage(
      message,
      typeof n === "number" ? `${n} ${n === 1 ? "event" : "events"} queued for replay` : "replay queued",
      "ok",
    );
    setTimeout(() => ctx.refresh(), REFRESH_AFTER_MS);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 405)) {
      setMessage(message, "bulk replay is not available on this gateway version (no POST /api/events/replay)");
    } else {
      ctx.fail(error, message);
    }
  }
}
