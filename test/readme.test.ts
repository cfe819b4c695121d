import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { environmentVariableFor, parameterNameFor, SETTING_NAMES } from "../lib/settings/index.ts";

/*
 * The README and the pages under docs/ are what a new user reads first: the commands they show
 * must run, and the links between them must lead somewhere. Only markdown links and images are
 * checked; file paths named in prose or code spans are not.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const docPages = readdirSync(join(root, "docs"))
  .filter((name) => name.endsWith(".md"))
  .sort()
  .map((name) => `docs/${name}`);
const markdownFiles = ["README.md", ...docPages];

const read = (file: string) => readFileSync(join(root, file), "utf8");
const scripts = Object.keys(JSON.parse(read("package.json")).scripts ?? {});

const FENCED_BLOCK = /^ {0,3}(`{3,}|~{3,})[^\n]*\n[\s\S]*?^ {0,3}\1[^\n]*$/gm;
const INLINE_CODE = /`[^`]*`/g;

/** The contents of every fenced code block. */
function codeBlocks(markdown: string): string[] {
  return [...markdown.matchAll(FENCED_BLOCK)].map((match) => match[0]);
}

/** The contents of every inline code span (outside fenced blocks). */
function codeSpans(markdown: string): string[] {
  return [...markdown.replace(FENCED_BLOCK, "").matchAll(INLINE_CODE)].map((match) => match[0]);
}

/** The markdown without code, so that a `[x](y)` inside code is not taken for a link. */
function prose(markdown: string): string {
  return markdown.replace(FENCED_BLOCK, "").replace(INLINE_CODE, "code");
}

/** The npm script each `npm start`, `npm test` or `npm run X` in the text names. */
function npmScriptsNamed(text: string): string[] {
  const command = /\bnpm\s+(?:(start|test|stop|restart)\b|run(?:-script)?\s+([\w:.-]+))/g;
  return [...text.matchAll(command)].map((match) => match[1] ?? match[2] ?? "");
}

/** Every `[text](target)` and `![alt](target)`, with its target as written. */
function linkTargets(markdown: string): string[] {
  const link = /!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
  return [...prose(markdown).matchAll(link)].map((match) => match[1] ?? "");
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target);

/**
 * GitHub's heading anchors: the heading's text, lower-cased, without punctuation (hyphens,
 * spaces and underscores stay), spaces turned into hyphens; a repeated slug gets -1, -2, ...
 */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading] of markdown.replace(FENCED_BLOCK, "").matchAll(/^ {0,3}#{1,6}[ \t]+(.*)$/gm)) {
    const text = (heading ?? "")
      .replace(/[ \t]+#+[ \t]*$/, "")
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
      .trim();
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
      .replace(/ /g, "-");
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** A relative link resolved against the file that holds it: the file it points at and its anchor. */
function resolveLink(from: string, target: string): { file: string; anchor?: string } {
  const [path, anchor] = target.split("#", 2);
  const file =
    path === "" || path === undefined
      ? from
      : relative(root, resolve(root, dirname(from), decodeURIComponent(path)));
  return { file, anchor: anchor === undefined ? undefined : decodeURIComponent(anchor) };
}

describe("the settings table in docs/settings.md", () => {
  const settingsPage = read("docs/settings.md");

  it.each(SETTING_NAMES)("documents %s with its parameter path and environment variable", (setting) => {
    const row = settingsPage
      .split("\n")
      .map((line) => line.split("|").map((cell) => cell.trim()))
      .find((cells) => cells[0] === "" && cells[1] === setting)
      ?.join(" | ");
    expect(row, `docs/settings.md has no table row for ${setting}`).toBeDefined();
    expect(row).toContain(`\`${parameterNameFor("<root>", setting)}\``);
    expect(row).toContain(`\`${environmentVariableFor(setting)}\``);
  });
});

describe("commands shown in the documentation", () => {
  it("the README shows how to run the product and its tests", () => {
    const shown = codeBlocks(read("README.md")).flatMap(npmScriptsNamed);
    expect(shown).toContain("start");
    expect(shown).toContain("test");
  });

  it.each(markdownFiles)("every npm command in %s names a script in package.json", (file) => {
    const markdown = read(file);
    const named = [...codeBlocks(markdown), ...codeSpans(markdown)].flatMap(npmScriptsNamed);
    const missing = named.filter((script) => !scripts.includes(script));
    expect(missing, `${file} runs scripts package.json does not have`).toEqual([]);
  });
});

describe("links and images in the documentation", () => {
  it.each(markdownFiles)("every relative link and image in %s points at a file that exists", (file) => {
    const broken = linkTargets(read(file))
      .filter((target) => !isExternal(target))
      .filter((target) => !existsSync(join(root, resolveLink(file, target).file)));
    expect(broken, `${file} links to files that do not exist`).toEqual([]);
  });

  it.each(markdownFiles)("every #anchor in %s matches a heading of the page it points at", (file) => {
    const broken = linkTargets(read(file))
      .filter((target) => !isExternal(target) && target.includes("#"))
      .filter((target) => {
        const { file: page, anchor } = resolveLink(file, target);
        if (!page.endsWith(".md") || !existsSync(join(root, page))) return false; // reported above
        return !headingAnchors(read(page)).has(anchor ?? "");
      });
    expect(broken, `${file} links to headings that do not exist`).toEqual([]);
  });
});

describe("the README", () => {
  const linked = new Set(
    linkTargets(read("README.md"))
      .filter((target) => !isExternal(target))
      .map((target) => resolveLink("README.md", target).file),
  );

  it("has documentation pages to link", () => {
    expect(docPages.length).toBeGreaterThan(0);
  });

  it.each(docPages)("links %s", (page) => {
    expect(linked.has(page), `README.md does not link ${page}`).toBe(true);
  });
});

describe("the link checker itself", () => {
  it("makes anchors the way GitHub does", () => {
    const anchors = headingAnchors(
      "# Sending mail (lib/smtp)\n## connection-test (HTTP, `POST /email/test`)\n## Goals not met, and why\n## Notes\n## Notes\n",
    );
    expect([...anchors]).toEqual([
      "sending-mail-libsmtp",
      "connection-test-http-post-emailtest",
      "goals-not-met-and-why",
      "notes",
      "notes-1",
    ]);
  });

  it("ignores headings, links and commands inside code", () => {
    const markdown =
      "```sh\n# not a heading [x](missing.md)\nnpm run build\n```\nSee `[y](gone.md)` and [z](README.md).\n";
    expect([...headingAnchors(markdown)]).toEqual([]);
    expect(linkTargets(markdown)).toEqual(["README.md"]);
    expect(codeBlocks(markdown).flatMap(npmScriptsNamed)).toEqual(["build"]);
  });
});
