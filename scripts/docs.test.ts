// The repository documents itself: every link in its Markdown resolves to a file (and a
// heading) inside it, and nothing points outside (docs/contract.md is the project's copy of
// the interface).
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";

const ROOT = resolve(import.meta.dirname, "..");
const DOCS = ["README.md", "bench/README.md", ...readdirSync(join(ROOT, "docs")).map((file) => `docs/${file}`)].filter(
  (file) => file.endsWith(".md"),
);

/** The Markdown outside fenced code blocks. */
const prose = (text: string) => text.replace(/^```[\s\S]*?^```/gm, "");

/** GitHub's anchor for a heading: links and code marks dropped, lower case, punctuation gone, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replaceAll("`", "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replaceAll(" ", "-");
}

const anchors = (file: string) =>
  new Set(
    prose(readFileSync(file, "utf8"))
      .split("\n")
      .filter((line) => /^#{1,6} /.test(line))
      .map((line) => slug(line.replace(/^#+ /, ""))),
  );

describe("documentation links", () => {
  it("turns headings into GitHub's anchors", () => {
    assert.equal(
      slug("11. Assumptions where the provider documents are silent"),
      "11-assumptions-where-the-provider-documents-are-silent",
    );
    assert.equal(
      slug("Exposing `wrangler dev` to a provider's sandbox"),
      "exposing-wrangler-dev-to-a-providers-sandbox",
    );
    assert.equal(slug("State rules ([contract §5](docs/contract.md#5-state-rules)) — x"), "state-rules-contract-5--x");
  });

  for (const doc of DOCS) {
    it(`${doc}: every link resolves inside the repository`, () => {
      const text = prose(readFileSync(join(ROOT, doc), "utf8"));
      const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] as string);
      const autolinks = [...text.matchAll(/<(https?:[^>\s]+)>/g)].map((match) => match[1] as string);
      assert.deepEqual(autolinks, [], "no autolinks out of the repository");
      for (const link of links) {
        assert.doesNotMatch(link, /^[a-z]+:/i, `${doc} links outside the repository: ${link}`);
        const [path = "", anchor] = link.split("#");
        const target = path === "" ? join(ROOT, doc) : resolve(dirname(join(ROOT, doc)), path);
        assert.ok(target.startsWith(`${ROOT}/`), `${doc}: ${link} leaves the repository`);
        assert.ok(existsSync(target), `${doc}: ${link} → ${relative(ROOT, target)} does not exist`);
        if (anchor)
          assert.ok(anchors(target).has(anchor), `${doc}: no heading #${anchor} in ${relative(ROOT, target)}`);
      }
    });

    it(`${doc}: no sentence speaks of "this machine"`, () => {
      assert.doesNotMatch(readFileSync(join(ROOT, doc), "utf8"), /this machine/i);
    });
  }
});

describe("code comments that cite the interface", () => {
  const CODE_DIRS = ["src", "test", "scripts", "e2e", "bench", "migrations"];
  const sources = CODE_DIRS.flatMap((dir) =>
    (readdirSync(join(ROOT, dir), { recursive: true }) as string[])
      .filter((file) => /\.(ts|tsx|mjs|sql|lua)$/.test(file))
      .map((file) => `${dir}/${file}`),
  );
  const sections = new Set(
    [...readFileSync(join(ROOT, "docs/contract.md"), "utf8").matchAll(/^## (\d+)\. /gm)].map((m) => m[1]),
  );

  it("name docs/contract.md and a section it has, never an outside copy", () => {
    const wrong: string[] = [];
    for (const file of sources) {
      if (file === "scripts/docs.test.ts") continue;
      const text = readFileSync(join(ROOT, file), "utf8");
      for (const match of text.matchAll(/(\S*)contract(?:\.md)? §(\d+)/g)) {
        const [cited, prefix = "", section = ""] = match;
        if (!`${prefix}contract.md`.endsWith("docs/contract.md") && !cited.includes("docs/contract.md"))
          wrong.push(`${file}: "${cited}" does not name docs/contract.md`);
        if (!sections.has(section)) wrong.push(`${file}: "${cited}": docs/contract.md has no §${section}`);
      }
      if (/\.\.\/shared|shared\/contract/.test(text)) wrong.push(`${file}: cites a contract outside the repository`);
    }
    assert.deepEqual(wrong, []);
  });
});
