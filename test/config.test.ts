import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getConfig } from "../src/config";

// A fresh object each time: getConfig caches per env object.
const configOf = (vars: Record<string, unknown>) => getConfig({ ...env, ...vars } as Env);

describe("configuration refused at startup, not at the first request that needs it", () => {
  it("FORWARD_URL without FORWARD_SIGNING_SECRET is an error; with it, a string or a Secrets Store binding, it is not", () => {
    expect(() => configOf({ FORWARD_URL: "https://downstream.example/hook", FORWARD_SIGNING_SECRET: "" })).toThrow(
      /FORWARD_URL is set but FORWARD_SIGNING_SECRET/,
    );
    expect(() =>
      configOf({ FORWARD_URL: "https://downstream.example/hook", FORWARD_SIGNING_SECRET: undefined }),
    ).toThrow(/FORWARD_SIGNING_SECRET/);
    expect(configOf({ FORWARD_URL: "https://downstream.example/hook" }).FORWARD_URL).toBe(
      "https://downstream.example/hook",
    );
    const fromStore = { get: async () => "whsec_c3RvcmU=" };
    expect(configOf({ FORWARD_URL: "https://d.example/", FORWARD_SIGNING_SECRET: fromStore }).FORWARD_URL).toBe(
      "https://d.example/",
    );
    // No destination, nothing to sign: no secret needed.
    expect(configOf({ FORWARD_URL: "", FORWARD_SIGNING_SECRET: "" }).FORWARD_URL).toBeUndefined();
  });

  it("EVENT_RETENTION_DAYS is empty (keep for ever) or a whole number of days, at least 7", () => {
    expect(configOf({ EVENT_RETENTION_DAYS: "" }).EVENT_RETENTION_DAYS).toBeUndefined();
    expect(configOf({ EVENT_RETENTION_DAYS: undefined }).EVENT_RETENTION_DAYS).toBeUndefined();
    expect(configOf({ EVENT_RETENTION_DAYS: " 7 " }).EVENT_RETENTION_DAYS).toBe(7);
    expect(configOf({ EVENT_RETENTION_DAYS: "90" }).EVENT_RETENTION_DAYS).toBe(90);
    for (const refused of ["6", "1", "0", "-7", "7.5", "a week"]) {
      expect(() => configOf({ EVENT_RETENTION_DAYS: refused }), refused).toThrow(/EVENT_RETENTION_DAYS/);
    }
  });
});
