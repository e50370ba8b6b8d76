// The shape of src/, checked on every run: its import graph only points down the layers below,
// the SQL of each table is written in one module (the events table's in the one folder
// src/events/), and only src/clock.ts (and the browser code's own clock) reads the real time.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";

const ROOT = resolve(import.meta.dirname, "..");
const SRC = join(ROOT, "src");
// The dashboard's browser code is a program of its own (src/dashboard/client/tsconfig.json).
const BROWSER = "dashboard/client/";
// What the browser code may import of the gateway's: lists that import nothing.
const SHARED_WITH_BROWSER = ["statuses.ts"];

/**
 * Bottom first. A file may import from its own unit (its top folder under src/, or itself) and
 * from units of lower layers, never from a unit of its own layer or above.
 */
const LAYERS: readonly (readonly string[])[] = [
  ["result.ts", "issues.ts", "statuses.ts"],
  ["log.ts", "clock.ts", "sql.ts", "config.ts", "crypto", "http"],
  ["secrets.ts"],
  ["providers"],
  ["effects", "monitor"],
  ["events"],
  ["alerts"],
  ["queue"],
  ["ingest", "admin", "maintenance", "dashboard"],
  ["app.ts"],
  ["index.ts"],
];

const layerOf = new Map(LAYERS.flatMap((units, layer) => units.map((unit) => [unit, layer] as const)));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) ? [relative(SRC, path)] : [];
  });
}

const files = sourceFiles(SRC).filter((file) => !file.startsWith(BROWSER));
const unitOf = (file: string) => file.split("/")[0] as string;
/** The tools' files (simulators, signing): not the gateway, which never imports them. */
const isTool = (file: string) => file.endsWith(".node.ts");

/** Comments out, so that prose about imports or SQL is not read as either. */
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");

/** The files under src/ that `file` imports, types included: a type import is an arrow too. */
function importsOf(file: string): string[] {
  const text = code(readFileSync(join(SRC, file), "utf8"));
  const specifiers = [
    ...text.matchAll(
      /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)|(?:^|\n)\s*import\s+"([^"]+)"/g,
    ),
  ]
    .map((match) => match[1] ?? match[2] ?? match[3])
    .filter((specifier): specifier is string => specifier?.startsWith(".") === true);
  return specifiers
    .map((specifier) => relative(SRC, resolve(SRC, dirname(file), specifier)))
    .filter((target) => !target.startsWith(".."))
    .map((target) => {
      const candidates = [target, `${target}.ts`, `${target}.tsx`, `${target}/index.ts`, `${target}/index.tsx`];
      return candidates.find((candidate) => files.includes(candidate)) ?? target;
    });
}

describe("layers (src/)", () => {
  it("every unit of src/ has a layer", () => {
    const units = [...new Set(files.map(unitOf))].sort();
    assert.deepEqual(
      units.filter((unit) => !layerOf.has(unit)),
      [],
      "a new folder or root file of src/ needs its place in LAYERS",
    );
  });

  it("no import points to the same layer or up", () => {
    const upward: string[] = [];
    for (const file of files) {
      for (const target of importsOf(file)) {
        if (unitOf(target) === unitOf(file)) continue;
        const from = layerOf.get(unitOf(file)) ?? -1;
        const to = layerOf.get(unitOf(target)) ?? Number.POSITIVE_INFINITY;
        if (to >= from) upward.push(`${file} → ${target}`);
      }
    }
    assert.deepEqual(upward, []);
  });

  it("the gateway never imports the dashboard's browser code, nor the browser code the gateway (but its status lists)", () => {
    const browser = sourceFiles(SRC).filter((file) => file.startsWith(BROWSER));
    const out = browser.flatMap((file) =>
      [...code(readFileSync(join(SRC, file), "utf8")).matchAll(/from\s+"(\.[^"]+)"/g)]
        .map((match) => relative(SRC, resolve(SRC, dirname(file), match[1] as string)))
        .filter(
          (target) => !target.startsWith(BROWSER) && !SHARED_WITH_BROWSER.includes(target.replace(/(\.ts)?$/, ".ts")),
        )
        .map((target) => `${file} → ${target}`),
    );
    const into = files.flatMap((file) =>
      importsOf(file)
        .filter((target) => target.startsWith(BROWSER))
        .map((target) => `${file} → ${target}`),
    );
    assert.deepEqual([...out, ...into], []);
  });
});

describe("the tools' files (src/**/*.node.ts)", () => {
  // A list of event types that imports nothing, shared by a provider and its simulator.
  const isEventList = (file: string) => /(^|\/)events\.ts$/.test(file);

  it("the gateway imports none of them", () => {
    const into = files
      .filter((file) => !isTool(file))
      .flatMap((file) =>
        importsOf(file)
          .filter(isTool)
          .map((target) => `${file} → ${target}`),
      );
    assert.deepEqual(into, []);
  });

  it("they import nothing of the gateway's but event lists, which import nothing", () => {
    const gateway = files.filter(isTool).flatMap((file) =>
      importsOf(file)
        .filter((target) => !isTool(target) && !isEventList(target))
        .map((target) => `${file} → ${target}`),
    );
    const lists = files
      .filter((file) => isEventList(file) || SHARED_WITH_BROWSER.includes(file))
      .filter((file) => importsOf(file).length > 0 || /\bimport\b/.test(code(readFileSync(join(SRC, file), "utf8"))));
    assert.deepEqual([...gateway, ...lists], []);
  });
});

const TABLES = readdirSync(join(ROOT, "migrations"))
  .flatMap((file) => [
    ...readFileSync(join(ROOT, "migrations", file), "utf8").matchAll(/CREATE TABLE (?:IF NOT EXISTS )?(\w+)/gi),
  ])
  .map((match) => match[1] as string);

/**
 * Tables owned by one folder rather than one module. The events table's statements are of three
 * kinds (ingest's and the consumer's writes in store.ts, the operator's queries in query.ts, the
 * dashboard's counts in stats.ts); one module of them all would be the largest in src/ and mix
 * three readers, so src/events/ owns the table and no file outside it names it.
 */
const OWNED_BY_FOLDER: Readonly<Record<string, string>> = { events: "events/" };

describe("SQL (src/)", () => {
  it("knows the tables of migrations/", () => {
    assert.ok(TABLES.includes("events") && TABLES.includes("effects"), TABLES.join(", "));
  });

  it("each table's statements are written in one module (the events table: in src/events/)", () => {
    const writers = new Map<string, Set<string>>();
    for (const file of files) {
      const text = code(readFileSync(join(SRC, file), "utf8"));
      for (const match of text.matchAll(/\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|FROM|JOIN)\s+(\w+)/g)) {
        const table = match[1] as string;
        if (!TABLES.includes(table)) continue;
        const modules = writers.get(table) ?? new Set();
        modules.add(file);
        writers.set(table, modules);
      }
    }
    const shared = [...writers]
      .filter(([table, modules]) => {
        const folder = OWNED_BY_FOLDER[table];
        if (folder) return [...modules].some((module) => !module.startsWith(folder));
        return modules.size > 1;
      })
      .map(([table, modules]) => `${table}: ${[...modules].join(", ")}`);
    assert.deepEqual(shared, []);
  });
});

/** The one clock of each program: the gateway's, and the dashboard's browser code's. */
const CLOCKS = ["clock.ts", `${BROWSER}clock.ts`];

describe("time (src/)", () => {
  it("only the clocks read the real time, the browser code's included; everything else is handed one", () => {
    const readers = sourceFiles(SRC).filter(
      (file) =>
        !CLOCKS.includes(file) &&
        !isTool(file) &&
        /\bDate\.now\b|new Date\(\s*\)/.test(code(readFileSync(join(SRC, file), "utf8"))),
    );
    assert.deepEqual(readers, []);
  });
});
