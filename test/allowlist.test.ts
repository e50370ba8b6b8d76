// How `<PROVIDER>_ALLOWED_IPS` is read (docs/contract.md §1): which lists switch the check on, how entries
// are separated, what a bare address covers, and that a list with one bad entry refuses everyone.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { isAllowed, parseAllowList } from "../src/ingest/allowlist";
import { callGateway, NOW_S, webhookRequest } from "./support/gateway";
import { novaEvent, nuveiWebhook } from "./support/payloads";
import { type ProviderName, signedHeaders } from "./support/sign";

afterEach(() => vi.restoreAllMocks());

/** A delivery signed the way the provider signs it, from `ip`, to a gateway with `allowed` set. */
function send(ip: string | null, allowed: string, provider: ProviderName = "nova") {
  const body = JSON.stringify(provider === "nuvei" ? nuveiWebhook() : novaEvent());
  const headers: Record<string, string> = signedHeaders(provider, body, NOW_S);
  if (ip !== null) headers["cf-connecting-ip"] = ip;
  const binding = `${provider.toUpperCase()}_ALLOWED_IPS`;
  return callGateway(webhookRequest(provider, body, headers), { env: { ...env, [binding]: allowed } as Env });
}

describe("which lists switch the check on", () => {
  it.each([" ", "\t \n"])("a list of only whitespace (%j) is no list: every source is let through", async (allowed) => {
    expect((await send("198.51.100.1", allowed)).status).toBe(202);
    expect((await send(null, allowed)).status).toBe(202);
  });
});

describe("entries", () => {
  it("are separated by commas, spaces or both, with separators at either end or doubled", async () => {
    const allowed = " ,203.0.113.0/24,, 198.51.100.1 ,\t";
    for (const ip of ["203.0.113.200", "198.51.100.1"]) expect((await send(ip, allowed)).status).toBe(202);
    expect((await send("198.51.100.2", allowed)).status).toBe(403);
  });

  it("a bare IPv6 address is that one address (/128), not its network", async () => {
    expect((await send("2001:db8::1", "2001:db8::1")).status).toBe(202);
    expect((await send("2001:db8::2", "2001:db8::1")).status).toBe(403);
  });

  it("a bare IPv4 address is that one address (/32)", async () => {
    expect((await send("198.51.100.7", "198.51.100.7")).status).toBe(202);
    expect((await send("198.51.100.8", "198.51.100.7")).status).toBe(403);
  });

  it("an address in the second of several ranges is allowed; one in none is not", async () => {
    const allowed = "198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32";
    expect((await send("203.0.113.9", allowed)).status).toBe(202);
    expect((await send("2001:db8:ffff::9", allowed)).status).toBe(202);
    expect((await send("192.0.2.1", allowed)).status).toBe(403);
    expect((await send("2001:db9::1", allowed)).status).toBe(403);
  });
});

describe("a malformed list", () => {
  it("refuses every delivery, also from a range it could read", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const response = await send("203.0.113.7", "203.0.113.0/24, not-a-range");
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ error: { code: "source_not_allowed" } });
  });

  it("is reported as allowlist_invalid, naming the bad entry cut at 64 characters", () => {
    const entry = `${"x".repeat(64)}${"y".repeat(36)}`;
    expect(parseAllowList(`203.0.113.0/24 ${entry}`)).toEqual({
      ok: false,
      code: "allowlist_invalid",
      message: `not a CIDR range: ${"x".repeat(64)}`,
    });
  });

  it("is told to the operator once, while a source outside a good list is not a misconfiguration", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: string) => void lines.push(line));
    const warnings = () =>
      lines.map((line) => JSON.parse(line)).filter((record) => record.message !== "deliveries refused");
    // Nuvei's list, which no other test of this file gets wrong, so its warning is still to come.
    expect((await send("192.0.2.1", "203.0.113.0/24", "nuvei")).status).toBe(403);
    expect(warnings()).toEqual([]);
    expect((await send("203.0.113.7", "203.0.113.0/33", "nuvei")).status).toBe(403);
    expect((await send("203.0.113.7", "203.0.113.0/33", "nuvei")).status).toBe(403);
    expect(warnings()).toEqual([
      expect.objectContaining({ level: "warn", provider: "nuvei", error: "not a CIDR range: 203.0.113.0/33" }),
    ]);
  });
});

describe("a list is parsed once per isolate per value", () => {
  let run = 0;
  const fresh = () => `198.51.100.${++run % 250} 2001:db8::${run.toString(16)}`;

  it("the same text gives back the same parsed list", () => {
    const text = fresh();
    const first = parseAllowList(text);
    expect(first.ok).toBe(true);
    expect(parseAllowList(text)).toBe(first);
  });

  it("holds 33 lists, then starts over", () => {
    // Fill until the cache starts over: the list just parsed is then the only one held.
    const probe = fresh();
    const held = parseAllowList(probe);
    for (let i = 0; parseAllowList(probe) === held; i++) {
      expect(i).toBeLessThan(100);
      parseAllowList(fresh());
    }
    // Held now: the list that started it over and the probe, parsed again.
    const first = fresh();
    const kept = parseAllowList(first);
    for (let i = 0; i < 30; i++) parseAllowList(fresh());
    expect(parseAllowList(first)).toBe(kept); // 33 held
    parseAllowList(fresh()); // a 34th starts over
    expect(parseAllowList(first)).not.toBe(kept);
    expect(parseAllowList(first)).toEqual(kept);
  });
});

describe("isAllowed", () => {
  const ranges = () => {
    const list = parseAllowList("203.0.113.0/24");
    if (!list.ok) throw new Error(list.message);
    return list.value;
  };

  it("no source, or an empty one, is never allowed", () => {
    expect(isAllowed(ranges(), null)).toBe(false);
    expect(isAllowed(ranges(), "")).toBe(false);
  });

  it("an IPv4-mapped IPv6 source counts as its IPv4 address", () => {
    expect(isAllowed(ranges(), "::ffff:203.0.113.1")).toBe(true);
    expect(isAllowed(ranges(), "::ffff:198.51.100.1")).toBe(false);
  });
});
