// `npm run dev`'s checks before anything starts (scripts/dev.mjs): run from an empty folder, so
// that anything it did start or write would show.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

/** A port free a moment ago. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, "127.0.0.1", done));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((done) => probe.close(() => done()));
  return port;
}

describe("npm run dev -- --port N with FAKE_NUVOUCH_PORT=M", () => {
  it("tells the gateway where the fake is: --var NUVOUCH_API_BASE_URL:http://127.0.0.1:M", async () => {
    // Stubs of wrangler and node first on PATH.
    const dir = mkdtempSync(join(tmpdir(), "dev-ports-"));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const bin = join(dir, "bin");
    mkdirSync(bin);
    // Each stub writes its arguments, one a line, to a file of its own (renamed into place once
    // complete). `wrangler dev` first waits, at most 10 s, for the fake's record: dev.mjs stops
    // the fake as soon as wrangler exits.
    const record = (name: string) =>
      `printf '%s\\n' "$@" > "${dir}/${name}.tmp" && mv "${dir}/${name}.tmp" "${dir}/${name}.args"\n`;
    writeFileSync(
      join(bin, "wrangler"),
      `#!/bin/sh\nif [ "$1" = dev ]; then i=0; while [ ! -e "${dir}/node.args" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done; fi\n${record("wrangler-$$")}`,
      { mode: 0o755 },
    );
    writeFileSync(join(bin, "node"), `#!/bin/sh\n${record("node")}`, { mode: 0o755 });
    writeFileSync(join(dir, ".dev.vars"), "");
    const [gateway, fake] = [await freePort(), await freePort()];
    const run = spawnSync(process.execPath, [DEV, "--port", String(gateway)], {
      cwd: dir,
      encoding: "utf8",
      // The stubs shadow any real wrangler or node; the system folders give them sleep and mv.
      env: { ...process.env, PATH: `${bin}:/usr/bin:/bin`, FAKE_NUVOUCH_PORT: String(fake) },
      timeout: 30_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const calls = (name: string) =>
      readdirSync(dir)
        .filter((file) => file.startsWith(name) && file.endsWith(".args"))
        .map((file) => readFileSync(join(dir, file), "utf8").trimEnd().split("\n"));
    const wranglerDev = calls("wrangler").find((args) => args[0] === "dev");
    assert.deepEqual(wranglerDev, [
      "dev",
      "--port",
      String(gateway),
      "--var",
      `NUVOUCH_API_BASE_URL:http://127.0.0.1:${fake}`,
    ]);
    // And the fake was started on M, sending its callbacks to the gateway on N.
    assert.deepEqual(calls("node"), [
      ["scripts/fake-nuvouch/cli.ts", "--port", String(fake), "--gateway", `http://127.0.0.1:${gateway}`],
    ]);
  });
});
