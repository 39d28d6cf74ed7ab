import type { Ir } from "../ir/types";

/** Repository-relative path → complete file text: what every emitter returns and the writer consumes. */
export type Outputs = Map<string, string>;

/** `FILE#region` outputs replace the text between BEGIN/END GENERATED markers of a hand-written file. */
export const REGION_SEPARATOR = "#";

export interface EmitContext {
  /** Repository root: the hand-written runtime (src/runtime) and changelog sources (changelogs/) are there. */
  root: string;
}

/**
 * One artifact family. `emit` depends on the IR alone (plus the hand-kept sources under the root:
 * src/runtime for bundling, changelogs/ for the changelog), never on what is on disk in the managed
 * trees, and returns every file it owns.
 */
export interface Emitter {
  name: string;
  emit(ir: Ir, context: EmitContext): Outputs | Promise<Outputs>;
}
