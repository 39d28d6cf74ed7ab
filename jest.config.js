/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
  testTimeout: 600000,
  // Tool tiers (ansible-lint, galaxy, Jinja2) are slow and share .venv: run files in parallel, tests in order.
  maxWorkers: 2,
};
