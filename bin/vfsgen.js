#!/usr/bin/env node
"use strict";
// Runs the CLI from one esbuild bundle of src/, so start-up costs one file load instead of
// transpiling every module. An installed package runs the bundle `npm pack` built (dist/vfsgen.cjs)
// and writes nothing; a checkout (src/ present) rebuilds its own bundle in .cache/cli whenever a
// source file is newer.
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const checkout = fs.existsSync(path.join(root, "src", "cli.ts"));

function newestMtime(dir) {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

function stale(out) {
  try {
    return (
      fs.statSync(out).mtimeMs <
      Math.max(newestMtime(path.join(root, "src")), fs.statSync(path.join(root, "package-lock.json")).mtimeMs)
    );
  } catch {
    return true;
  }
}

let out;
if (checkout) {
  out = path.join(root, ".cache", "cli", "vfsgen.cjs");
  if (stale(out)) require("./build-cli").buildCli(root, out);
  // Only a checkout keeps compiled validators in .cache/ (VFSGEN_ROOT); an installed package,
  // perhaps read-only, compiles them per run and writes nothing.
  process.env.VFSGEN_ROOT = root;
} else {
  out = path.join(root, "dist", "vfsgen.cjs");
}

require(out)
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
