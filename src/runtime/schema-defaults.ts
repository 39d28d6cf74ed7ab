/**
 * The modules never restate a schema default: the generated validator (ajv useDefaults) fills every
 * argument and share field that has one before main runs. `filled` reads such a value; undefined
 * means the module's logic was called without that validator, a programming error, never input.
 */
export function filled<T>(value: T | undefined, what: string): T {
  if (value === undefined)
    throw new Error(`${what} is unset: its schema default is filled in by the module's validator, which did not run`);
  return value;
}

/**
 * Values a module falls back to when an argument without a default stays unset (x-fallback-from in the
 * schema): generated into the module's entry point, keyed by argument name.
 */
export type Fallbacks<K extends string> = Readonly<Record<K, string>>;
