#!/usr/bin/env node
"use strict";
// Runs the TypeScript sources directly (tsx), so the CLI never lags behind src/.
require("tsx/cjs/api").register();
const { main } = require("../src/cli.ts");
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
