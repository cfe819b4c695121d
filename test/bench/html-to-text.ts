/**
 * The text-part converter (lib/smtp/html-to-text.ts) on hostile and realistic HTML: how long
 * each input takes, to show the work grows with the input's size and no faster. The old
 * hand-written converter took 198 s on 86 KB of repeated `<a href="x">`. The poison rows are
 * HTML whose text would be too big to write (issue 19), refused before converting: a `<pre>` of
 * short lines in 50 quotes took 19 s and 890 MB at 1 MiB, 2.5 s and 460 MB at 255 KB, in 50
 * nested list items 29 s and 1.4 GB at 1 MiB, before that (each alone in a process).
 *
 * Not part of `npm run bench`; run alone with `node test/bench/html-to-text.ts` (Node 24) for a
 * table. Each time is the median of interleaved rounds (BENCH_ROUNDS, default 5), after one
 * conversion that loads the library.
 */
import { pathToFileURL } from "node:url";
import { InvalidMessageError } from "../../lib/smtp/errors.ts";
import { htmlToText } from "../../lib/smtp/html-to-text.ts";
import { HOSTILE_UNITS, NOTIFICATION_HTML, repeatTo } from "../lib/smtp/html-samples.ts";
import { fmt, interleaved, median } from "./stats.ts";

const KiB = 1024;

/** A `<pre>` of `line` repeated to `bytes` bytes in all, inside `depth` of `open` and `close`. */
function poison(open: string, close: string, depth: number, line: string, bytes: number): string {
  const shell = open.length * depth + close.length * depth + "<pre></pre>".length;
  const lines = line.repeat(Math.floor((bytes - shell) / line.length));
  return `${open.repeat(depth)}<pre>${lines}</pre>${close.repeat(depth)}`;
}

function inputs(): Record<string, string> {
  const hostile = Object.entries(HOSTILE_UNITS).map(([name, unit]) => [
    `${name}, 256 KB`,
    repeatTo(unit, 256 * KiB),
  ]);
  const quotes = ["<blockquote>", "</blockquote>"] as const;
  const items = ["<ul><li>", "</li></ul>"] as const;
  return Object.fromEntries([
    ...hostile,
    ["poison: short lines in 50 quotes, 255 KB", poison(...quotes, 50, "x\n", 255 * KiB)],
    ["poison: short lines in 50 quotes, 1 MiB", poison(...quotes, 50, "x\n", 1024 * KiB)],
    ["poison: empty lines in 50 list items, 255 KB", poison(...items, 50, "\n", 255 * KiB)],
    ["poison: empty lines in 50 list items, 1 MiB", poison(...items, 50, "\n", 1024 * KiB)],
    ["realistic notification repeated, 64 KB", repeatTo(NOTIFICATION_HTML, 64 * KiB)],
    ["realistic notification repeated, 256 KB", repeatTo(NOTIFICATION_HTML, 256 * KiB)],
  ]);
}

/**
 * Milliseconds to convert each input, or to refuse it (median of `rounds`), with the input's size
 * in bytes.
 */
export async function htmlToTextTimes(
  rounds = Number(process.env.BENCH_ROUNDS ?? 5),
): Promise<Array<{ input: string; bytes: number; ms: number }>> {
  const html = inputs();
  await htmlToText(NOTIFICATION_HTML); // loads the library: not part of any input's time
  const timed = (input: string) => async () => {
    const started = performance.now();
    await htmlToText(input).catch((error: unknown) => {
      if (!(error instanceof InvalidMessageError)) throw error;
    });
    return performance.now() - started;
  };
  const samples = await interleaved(
    Object.fromEntries(Object.entries(html).map(([name, input]) => [name, timed(input)])),
    rounds,
  );
  return Object.entries(html).map(([input, text]) => ({
    input,
    bytes: Buffer.byteLength(text),
    ms: median(samples[input] ?? []),
  }));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const rows = await htmlToTextTimes();
  const width = Math.max(...rows.map((r) => r.input.length));
  console.log(
    `${"input".padEnd(width)}  ${"bytes".padStart(8)}  ${"ms".padStart(8)}  ${"µs/KB".padStart(7)}`,
  );
  for (const { input, bytes, ms } of rows) {
    const perKb = (ms * 1000) / (bytes / KiB);
    console.log(
      `${input.padEnd(width)}  ${String(bytes).padStart(8)}  ${fmt(ms).padStart(8)}  ${fmt(perKb, 0).padStart(7)}`,
    );
  }
}
