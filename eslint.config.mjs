// Lint rules for the compiler, the runtime modules and the tests (npm run lint; npm test runs it).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    // Generator output and third-party trees are checked by drift and by their own tools, not linted.
    ignores: [
      "node_modules/",
      ".venv/",
      ".cache/",
      "collection/",
      "generated/",
      "src/runtime/generated/",
      "bench/results/",
      "**/*.cjs",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        require: "readonly",
        module: "writable",
        process: "readonly",
        __dirname: "readonly",
        console: "readonly",
      },
    },
    rules: {
      // Unused arguments keep a callback's documented shape; a leading _ marks them.
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
      // Tests and the esbuild/ts-morph glue load optional tools lazily with require().
      "@typescript-eslint/no-require-imports": "off",
    },
  },
  {
    // Module results and parsed YAML are JSON of many shapes; tests index into them freely.
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
