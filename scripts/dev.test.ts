// `npm run dev`'s checks before anything starts (scripts/dev.mjs): run from an empty folder, so
// that anything it did start or write would show.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

const DEV = join(import.meta.dirname, "dev.mjs");
const empty = mkdtempSync(join(tmpdir(), "dev-test-"));
let busy: Server;
let busyPort = 0;
before(async () => {
  busy = createServer();
  await new Promise<void>((done) => busy.listen(0, "127.0.0.1", done));
  busyPort = (busy.address() as { port: number }).port;
});
after(() => {
  busy.close();
  rmSync(empty, { recursive: true, force: true });
});

function dev(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [DEV, ...args], {
    cwd: empty,
    encoding: "utf8",
    // A PATH without wrangler: had the script gone on to start it, the run would fail differently.
    env: { ...process.env, PATH: "/nonexistent", ...env },
    timeout: 30_000,
  });
}

describe("npm run dev refuses in one line, before starting anything", () => {
  it("when the gateway's port is taken", () => {
    const run = dev(["--port", String(busyPort)], { FAKE_NUVOUCH: "0" });
    assert.equal(run.status, 1);
    assert.equal(
      run.stderr,
      `npm run dev: port ${busyPort} for the gateway is already in use (another npm run dev?); pick another: npm run dev -- --port N\n`,
    );
    assert.deepEqual(readdirSync(empty), [], "no .dev.vars, no local state");
  });

  it("when the fake Nuvouch API's port is taken (--port=N form)", () => {
    const run = dev([`--port=${busyPort + 1}`], { FAKE_NUVOUCH_PORT: String(busyPort) });
    assert.equal(run.status, 1);
    assert.match(run.stderr, new RegExp(`^npm run dev: port ${busyPort} for the fake Nuvouch API is already in use`));
    assert.equal(run.stderr.trim().split("\n").length, 1);
    assert.deepEqual(readdirSync(empty), []);
  });

  it("when a port is not a number, or both want the same one", () => {
    assert.equal(dev(["--port", "abc"]).stderr, 'npm run dev: --port must be a port number, not "abc"\n');
    assert.equal(
      dev(["--port", "18000"], { FAKE_NUVOUCH_PORT: "18000" }).stderr,
      "npm run dev: the gateway and the fake Nuvouch API both want port 18000\n",
    );
    assert.deepEqual(readdirSync(empty), []);
  });
});
