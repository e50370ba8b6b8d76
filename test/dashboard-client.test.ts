// The dashboard client's pure parts (no DOM), checked here; its DOM work is checked in
// Chromium by e2e/dashboard.e2e.test.ts.
import { describe, expect, it } from "vitest";
import {
  bucketGrid,
  bulkReplayText,
  failureSummary,
  RATE_MIN_BUCKET_EVENTS,
  RATE_MIN_EVENTS,
  ratedCells,
  rejectionWindow,
  relative,
} from "../src/dashboard/client/format";
import { prettyJson, rawMember } from "../src/dashboard/client/json";
import type { Stats } from "../src/dashboard/client/types";

function stats(buckets: Stats["buckets"]): Stats {
  return {
    window: "15m",
    from: "2026-11-23T12:00:00.000Z",
    to: "2026-11-23T12:15:00.000Z",
    bucketSeconds: 60,
    buckets,
    providers: [],
  };
}

describe("failure counts", () => {
  it("shows counts, not a rate, while there are too few events for a rate to mean anything", () => {
    expect(failureSummary(0, 0)).toBe("—");
    expect(failureSummary(0, 2)).toBe("0 of 2");
    expect(failureSummary(2, 2)).toBe("2 of 2");
    expect(failureSummary(1, RATE_MIN_EVENTS - 1)).toBe(`1 of ${RATE_MIN_EVENTS - 1}`);
  });

  it("adds the rate once there are enough events", () => {
    expect(failureSummary(5, 40)).toBe("5 of 40 (12.5%)");
    expect(failureSummary(0, RATE_MIN_EVENTS)).toBe(`0 of ${RATE_MIN_EVENTS} (0%)`);
  });

  it("draws no rate for two lone events, one failed: no line from 0 to 100 %", () => {
    const { cells } = bucketGrid(
      stats([
        { start: "2026-11-23T12:03:00.000Z", provider: "nova", total: 1, retrying: 0, dead: 0 },
        { start: "2026-11-23T12:04:00.000Z", provider: "nova", total: 1, retrying: 0, dead: 1 },
      ]),
    );
    expect(cells.map((c) => c.failed)).toContain(1);
    expect(ratedCells(cells)).toEqual([]);
  });

  it("draws the rate of a bucket with enough events, failures counted as retrying + dead", () => {
    const { cells } = bucketGrid(
      stats([
        {
          start: "2026-11-23T12:05:00.000Z",
          provider: "nova",
          total: RATE_MIN_BUCKET_EVENTS - 2,
          retrying: 1,
          dead: 0,
        },
        { start: "2026-11-23T12:05:00.000Z", provider: "nuvei", total: 2, retrying: 0, dead: 1 },
        {
          start: "2026-11-23T12:06:00.000Z",
          provider: "nova",
          total: RATE_MIN_BUCKET_EVENTS - 1,
          retrying: 9,
          dead: 0,
        },
      ]),
    );
    expect(cells).toHaveLength(15);
    expect(ratedCells(cells)).toEqual([{ index: 5, rate: 2 / RATE_MIN_BUCKET_EVENTS, cell: cells[5] }]);
    expect(cells[5]?.byProvider).toEqual(
      new Map([
        ["nova", RATE_MIN_BUCKET_EVENTS - 2],
        ["nuvei", 2],
      ]),
    );
  });

  it("drops buckets outside the window instead of drawing them off the chart", () => {
    const { cells } = bucketGrid(
      stats([
        { start: "2026-11-23T11:59:00.000Z", provider: "nova", total: 3, retrying: 0, dead: 0 },
        { start: "2026-11-23T12:15:00.000Z", provider: "nova", total: 3, retrying: 0, dead: 0 },
      ]),
    );
    expect(cells.reduce((sum, c) => sum + c.total, 0)).toBe(0);
  });
});

describe("refusal window", () => {
  it("asks /api/rejections for the smallest window it offers that covers the chart's", () => {
    expect(["15m", "1h", "6h", "24h"].map(rejectionWindow)).toEqual(["15m", "1h", "24h", "24h"]);
  });
});

describe("relative times", () => {
  const now = Date.parse("2026-11-23T12:00:00.000Z");
  it("says how far a retry is", () => {
    expect(relative("2026-11-23T12:00:40.000Z", now)).toBe("in 40 s");
    expect(relative("2026-11-23T12:04:00.000Z", now)).toBe("in 4 min");
    expect(relative("2026-11-23T14:00:00.000Z", now)).toBe("in 2 h");
    expect(relative("2026-11-23T11:59:30.000Z", now)).toBe("30 s ago");
    expect(relative("not a time", now)).toBe("");
  });
});

describe("bulk replay confirmation", () => {
  it("names the status, the provider and how many, and warns when more exist than are shown", () => {
    const some = bulkReplayText({ status: "dead", provider: "nuvei", shown: 3, more: false });
    expect(some.title).toBe("Replay all dead events from nuvei?");
    expect(some.text).toContain("(3 shown)");
    expect(some.ok).toBe("Replay 3");
    const more = bulkReplayText({ status: "quarantined", shown: 20, more: true });
    expect(more.title).toBe("Replay all quarantined events?");
    expect(more.text).toContain("20 shown, and more not loaded yet");
    expect(more.ok).toBe("Replay all quarantined");
  });
});

describe("payload text", () => {
  // 2^64 + 1 is not a double: JSON.parse would show 18446744073709552000.
  const answer = '{"id":"evt_1","payload":{"transactionId":18446744073709551617,"s":"a\\"}{,","n":[]},"x":1}';

  it("takes a member's raw text, so 64-bit numbers keep every digit", () => {
    expect(rawMember(answer, "payload")).toBe('{"transactionId":18446744073709551617,"s":"a\\"}{,","n":[]}');
    expect(rawMember(answer, "x")).toBe("1");
    expect(rawMember(answer, "missing")).toBeNull();
    expect(rawMember("[1]", "payload")).toBeNull();
    expect(rawMember('{"payload":{"open":', "payload")).toBeNull();
  });

  it("re-indents JSON without touching numbers or string contents", () => {
    const pretty = prettyJson(rawMember(answer, "payload") ?? "");
    expect(pretty).toBe('{\n  "transactionId": 18446744073709551617,\n  "s": "a\\"}{,",\n  "n": []\n}');
    expect(JSON.parse(prettyJson('{"a":[1,{"b":null}]}'))).toEqual({ a: [1, { b: null }] });
  });
});
