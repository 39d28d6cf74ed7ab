"use strict";
// Bundles the CLI (src/cli.ts and everything it imports) into one CommonJS file with esbuild.
// `npm pack` runs this through prepack, so an installed package carries dist/vfsgen.cjs and never
// builds at run time; in a checkout, bin/vfsgen.js calls buildCli() into .cache/cli when src/ changed.
const fs = require("fs");
const path = require("path");

/** The packed CLI, relative to the package root (package.json "files" ships it, bin/vfsgen.js runs it). */
const DIST_CLI = path.join("dist", "vfsgen.cjs");

function buildCli(root, outfile) {
  const tmp = `${outfile}.${process.pid}.tmp`;
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  require("esbuild").buildSync({
    entryPoints: [path.join(root, "src", "cli.ts")],
    outfile: tmp,
    bundle: true,
    platform: "node",
    target: "node18",
    format: "cjs",
    logLevel: "error",
    // Heavy emitter dependencies stay external and load only for `generate` (a checkout's command);
    // nunjucks is a dependency of the package and loads from its node_modules.
    external: ["esbuild", "ts-morph", "typescript", "nunjucks"],
  });
  // Concurrent runs may build at once: the rename makes the last complete bundle win, never a partial one.
  fs.renameSync(tmp, outfile);
}

module.exports = { buildCli, DIST_CLI };

if (require.main === module) {
  const root = path.resolve(__dirname, "..");
  buildCli(root, path.join(root, DIST_CLI));
  // stderr: `npm pack --json` keeps stdout for its report
  process.stderr.write(`built ${DIST_CLI}\n`);
}
