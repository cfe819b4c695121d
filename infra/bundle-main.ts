/** `node infra/bundle-main.ts <main.ts> <out/main.mjs>`: CDK's after-bundling hook (bundling.ts). */
import { buildMain } from "./bundling.ts";

const [entry, outfile] = process.argv.slice(2);
if (!entry || !outfile) {
  console.error("usage: node infra/bundle-main.ts <main.ts> <main.mjs>");
  process.exit(2);
}
buildMain(entry, outfile);
