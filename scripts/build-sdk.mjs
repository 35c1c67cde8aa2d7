#!/usr/bin/env node
// Builds the client SDK package in sdk/dist: the ESM module (zod left to the app's install, as a
// dependency), a minified browser bundle with zod inside, and the type declarations. Prints sizes.
// `npm run build:sdk`, then `npm pack` in sdk/ makes the tarball an app installs.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = new URL("..", import.meta.url).pathname;
const dist = `${root}sdk/dist`;
rmSync(dist, { recursive: true, force: true });

const BROWSER_BUNDLE = {
  entryPoints: [`${root}sdk/src/index.ts`],
  bundle: true,
  format: "esm",
  // Old enough for React Native's Hermes and every current browser.
  target: "es2020",
  minify: true,
  logLevel: "warning",
};

await build({
  ...BROWSER_BUNDLE,
  minify: false,
  external: ["zod"],
  outfile: `${dist}/index.js`,
  sourcemap: true,
});
await build({ ...BROWSER_BUNDLE, outfile: `${dist}/spana-chat-client.min.js` });
execFileSync(
  process.execPath,
  [`${root}node_modules/typescript/bin/tsc`, "-p", `${root}sdk/tsconfig.build.json`],
  {
    stdio: "inherit",
  },
);

// tsc writes declaration imports as the sources have them (`./client`), which Node's own resolution
// (`"moduleResolution": "nodenext"`) cannot follow: without the extension every type silently
// becomes `any` in such an app. Each relative specifier is given the file it names.
addDeclarationExtensions(`${dist}/types`);

function addDeclarationExtensions(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = `${dir}/${entry.name}`;
    if (entry.isDirectory()) addDeclarationExtensions(file);
    else if (entry.name.endsWith(".d.ts")) {
      const text = readFileSync(file, "utf8");
      const fixed = text.replace(
        /((?:from|import)\s*\(?\s*)"(\.{1,2}\/[^"]*)"/g,
        (whole, lead, specifier) => {
          if (specifier.endsWith(".js")) return whole;
          const target = resolve(dirname(file), specifier);
          if (existsSync(`${target}.d.ts`)) return `${lead}"${specifier}.js"`;
          if (existsSync(`${target}/index.d.ts`)) return `${lead}"${specifier}/index.js"`;
          throw new Error(`${file}: cannot resolve ${specifier}`);
        },
      );
      if (fixed !== text) writeFileSync(file, fixed);
    }
  }
}

const size = (file) => {
  const bytes = readFileSync(`${dist}/${file}`);
  return `${(bytes.length / 1024).toFixed(1)} KB (${(gzipSync(bytes).length / 1024).toFixed(1)} KB gzipped)`;
};
console.log(`sdk/dist/index.js ${size("index.js")}, without zod`);
console.log(`sdk/dist/spana-chat-client.min.js ${size("spana-chat-client.min.js")}, zod included`);
