import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import execa from "execa";

export const ROOT = path.resolve(__dirname, "../..");
export const VENV_BIN = path.join(ROOT, ".venv/bin");
export const COLLECTION = path.join(ROOT, "collection/ansible_collections/ai_how/virtio_fs");

/** Environment for the pinned Python tools: the project venv first, no user config leaking in. */
export function toolEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...(process.env as Record<string, string>),
    PATH: `${VENV_BIN}:${process.env.PATH}`,
    ANSIBLE_NOCOLOR: "1",
    ANSIBLE_FORCE_COLOR: "0",
    NO_COLOR: "1",
    ANSIBLE_LOCALHOST_WARNING: "false",
    // Localhost runs use the venv interpreter; discovery would pick a pyenv shim here.
    ANSIBLE_PYTHON_INTERPRETER: path.join(VENV_BIN, "python"),
    ANSIBLE_INVENTORY_UNPARSED_WARNING: "false",
    ...extra,
  };
}

export async function tool(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; reject?: boolean } = {},
) {
  return execa(cmd, args, {
    cwd: opts.cwd ?? ROOT,
    env: toolEnv(opts.env),
    reject: opts.reject ?? false,
    all: true,
    extendEnv: false,
  });
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `vfs-${prefix}-`));
}

/** Runs the CLI exactly as a user does (bin/vfsgen.js), capturing exit code and both streams. */
export async function vfsgen(args: string[], cwd = ROOT, project = ROOT) {
  return execa(process.execPath, [path.join(project, "bin/vfsgen.js"), ...args], {
    cwd,
    reject: false,
    stripFinalNewline: false,
  });
}
