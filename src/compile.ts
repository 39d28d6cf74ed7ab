import { loadSchema } from "./schema/load";
import { buildIr } from "./ir/build";
import { checkIr } from "./ir/check";
import type { Ir } from "./ir/types";

const compiled = new Map<string, Ir>();

/** loadSchema → buildIr → checkIr: the IR every emitter and command reads (once per process). */
export function compile(root: string): Ir {
  let ir = compiled.get(root);
  if (!ir) {
    ir = checkIr(buildIr(loadSchema(root)));
    compiled.set(root, ir);
  }
  return ir;
}
