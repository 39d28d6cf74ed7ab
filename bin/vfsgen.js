#!/usr/bin/env node
"use strict";
// Runs the CLI from one esbuild bundle of src/ (rebuilt whenever a source file is newer), so start-up
// costs one file load instead of transpiling every module; heavy emitter dependencies stay external
// and load only for `generate`.
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const out = path.join(root, ".cache", "cli", "vfsgen.cjs");

function newestMtime(dir) {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

function stale() {
  try {
    return (
      fs.statSync(out).mtimeMs <
      Math.max(newestMtime(path.join(root, "src")), fs.statSync(path.join(root, "package-lock.json")).mtimeMs)
    );
  } catch {
    return true;
  }
}

if (stale()) {
  const tmp = `${out}.${process.pid}.tmp`;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  require("esbuild").buildSync({
    entryPoints: [path.join(root, "src", "cli.ts")],
    outfile: tmp,
    bundle: true,
    platform: "node",
    target: "node18",
    format: "cjs",
    logLevel: "error",
    external: ["esbuild", "ts-morph", "typescript", "nunjucks"],
  });
  // Concurrent runs may build at once: the rename makes the last complete bundle win, never a partial one.
  fs.renameSync(tmp, out);
}

process.env.VFSGEN_ROOT = root;
require(out)
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
