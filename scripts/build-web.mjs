#!/usr/bin/env node
// Builds public/ (served as Workers static assets): the try-it page (web/app.ts bundled with the
// client SDK, plus its HTML and CSS) and the SDK alone. public/ is generated; edit web/ and sdk/src/.
//
// `--dev` (npm start) adds a source map for the page; every other build (deploy, the tests) leaves
// it out and removes one an earlier development build left, so no source map is ever deployed.
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { build } from "esbuild";

const root = new URL("..", import.meta.url).pathname;
const dev = process.argv.includes("--dev");
mkdirSync(`${root}public`, { recursive: true });
if (!dev) rmSync(`${root}public/app.js.map`, { force: true });
await build({
  entryPoints: [`${root}web/app.ts`],
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: dev,
  outfile: `${root}public/app.js`,
  logLevel: "warning",
});
// The client SDK on its own, minified with zod inside (as the package's browser bundle), for pages
// and examples: import { createChatClient } from "/spana-chat-client.js".
await build({
  entryPoints: [`${root}sdk/src/index.ts`],
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: true,
  outfile: `${root}public/spana-chat-client.js`,
  logLevel: "warning",
});
for (const file of ["index.html", "styles.css"]) copyFileSync(`${root}web/${file}`, `${root}public/${file}`);
