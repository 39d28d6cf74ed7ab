import type { Ir } from "../../ir/types";

/** The newest ansible-core line the collection claims ("2.19"): the one every functional test runs. */
export function newestCoreLine(ir: Ir): string {
  const minor = (line: string) => Number(line.split(".")[1]);
  return [...ir.collection.testedAnsibleCore].sort((a, b) => minor(a) - minor(b)).at(-1)!;
}
