#!/usr/bin/env node
// Builds public/ (served as Workers static assets). wrangler.toml's `[build]` runs it before every
// `wrangler dev` and `wrangler deploy`, so a plain `npx wrangler deploy` works from a fresh clone.
//
// What it holds: a favicon and robots.txt always; the try-it page (web/ bundled with the client
// SDK, plus its HTML and CSS) and the SDK alone only when asked for, since the page signs in through
// `POST /dev/token`, which answers 404 outside development:
//   --page or TRY_IT_PAGE=1   include the page (npm start and the tests do; a deployment may)
//   --dev or SPANA_WEB_DEV=1  the page with a source map (npm start); every other build leaves it out
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { build } from "esbuild";

const root = new URL("..", import.meta.url).pathname;
const out = `${root}public`;
const dev = process.argv.includes("--dev") || process.env.SPANA_WEB_DEV === "1";
const page = dev || process.argv.includes("--page") || process.env.TRY_IT_PAGE === "1";

// From scratch: nothing an earlier build made (a page, a source map) outlives a build without it.
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
copyFileSync(`${root}web/favicon.svg`, `${out}/favicon.svg`);
writeFileSync(`${out}/robots.txt`, "User-agent: *\nDisallow: /\n");
if (page) {
  await build({
    entryPoints: [`${root}web/app.ts`],
    bundle: true,
    format: "esm",
    target: "es2022",
    minify: true,
    sourcemap: dev,
    outfile: `${out}/app.js`,
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
    outfile: `${out}/spana-chat-client.js`,
    logLevel: "warning",
  });
  for (const file of ["index.html", "styles.css"]) copyFileSync(`${root}web/${file}`, `${out}/${file}`);
}
