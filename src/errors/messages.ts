/**
 * The catalogue of every message vfsgen reports. Codes are stable: tests, scripts and operators
 * grep for them, so a code is never reused for a different problem.
 */
export const Messages = {
  VFS001: "YAML syntax error: {detail}",
  VFS002: "cannot read file: {detail}",
  VFS003:
    "not a virtio-fs configuration: expected a cluster configuration (clusters.<cluster>.<vm>) or an Ansible vars file (top-level virtio_fs_mounts)",
  VFS004: "not UTF-8 text: byte 0x{byte} at byte offset {offset} is not valid UTF-8 (save the file as UTF-8)",
  VFS005:
    "character {char} is not allowed{where}: YAML (PyYAML, so Ansible) and XML refuse control characters other than tab, LF and CR, U+FFFE, U+FFFF and lone surrogates",
  VFS006:
    "nested deeper than {limit} levels: a configuration needs a handful; deeper nesting is refused before it can exhaust the stack",
  VFS007:
    "file is larger than {limit}, the most vfsgen reads from one configuration (a device or a FIFO is read up to that size too)",
  VFS010: "unknown property {name}",
  VFS011: "expected {expected}, got {got}",
  VFS012: "missing required property {name}",
  VFS013: "expected {expected}, got {got}",
  VFS014: "expected {expected}, got {got}",
  VFS015:
    'mode must be a quoted octal string such as "0755": an unquoted {value} is read by YAML as the number {number}',
  VFS016: 'unknown role variable "{name}"{hint}',
  VFS017:
    'unknown VM key "{name}" (did you mean "{best}"?): a VM\'s keys are {known}; other keys are allowed only when they are not this close to one of them',
  VFS018: 'the schema\'s "{keyword}" rule refuses this value: {rule}',
  VFS020: 'duplicate tag "{tag}": already used by {other}',
  VFS021: 'duplicate mount point "{path}": already used by {other}',
  VFS022: 'mount point "{path}" is inside the share mounted at "{parent}" ({other})',
  VFS023: 'mount point "{path}" is not normalised: {why}',
  VFS024: 'mount point must not be "/"',
  VFS025: "host_path is required here: this configuration produces host-side artifacts (domain XML)",
  VFS026: 'options contain "{option}" but readonly is {readonly}: set readonly instead of ro/rw',
  VFS027: 'host_path "{path}" is not normalised: {why}',
  VFS028: "{what} name {name} is not valid: expected {expected}",
  VFS029: "{what} name {name} is not valid: expected at most {max} characters, got {length}",
  VFS030:
    'VM full name "{name}" (<cluster>-<vm>: the libvirt domain, disk image and inventory host name) has {length} characters: at most {max}',
  VFS031:
    'VM full name "{name}" (<cluster>-<vm>) is also the full name of {other}: libvirt domains, disk images and inventory hosts would collide',
  VFS032:
    'cluster name {name} becomes the inventory group "{group}", as does the cluster at {other}: rename one of them',
  VFS033: 'cluster name {name} becomes the inventory group "{group}", which Ansible reserves for itself',
  VFS034: "duplicate domain name {name}: already used by {other}",
  VFS036:
    'options contain "{option}", a mount operation rather than a mount option (util-linux would not mount the tag as a virtio-fs share): remove it',
  VFS037:
    "hypervisor {name} is also the inventory host of the VM at {other}: a VM of this configuration cannot be one of its hypervisors",
  VFS038:
    'hypervisor {name} is also the name of the inventory group "{group}" ({whose}): Ansible cannot tell a host from a group of the same name',
  VFS039:
    'cluster name {name} becomes the inventory group "{group}", which vfsgen inventory writes the hypervisors into',
  VFS040: "schema: {detail}",
  VFS050: "stale generated file: {detail}",
  VFS060: "usage: {detail}",
  VFS061: 'no VM named "{name}" in this cluster configuration (VMs: {names})',
  VFS070: "{field} {problem}: the domain XML cannot carry it",
} as const;

export type MessageCode = keyof typeof Messages;

/**
 * What reports each message, so documentation and reports can say which rules a JSON Schema
 * implementation (an editor, a second validator) checks from the published schemas and which only
 * `vfsgen validate` checks:
 * - `reading`: reading a configuration before any schema applies (YAML, text, limits, which kind of file);
 * - `json-schema`: a JSON Schema keyword of the published schemas refused the value (src/errors/ajv-format.ts);
 * - `validate`: a rule of `vfsgen validate` beyond JSON Schema (names, cross-share rules, near misses);
 * - `render`, `generator`, `usage`: the other commands and the command line.
 */
export type MessageOrigin = "reading" | "json-schema" | "validate" | "render" | "generator" | "usage";

export const MessageOrigins: Record<MessageCode, MessageOrigin> = {
  VFS001: "reading",
  VFS002: "reading",
  VFS003: "reading",
  VFS004: "reading",
  VFS005: "reading",
  VFS006: "reading",
  VFS007: "reading",
  VFS010: "json-schema",
  VFS011: "json-schema",
  VFS012: "json-schema",
  VFS013: "json-schema",
  VFS014: "json-schema",
  VFS015: "json-schema",
  VFS016: "validate",
  VFS017: "validate",
  VFS018: "json-schema",
  VFS020: "validate",
  VFS021: "validate",
  VFS022: "validate",
  VFS023: "validate",
  VFS024: "validate",
  VFS025: "validate",
  VFS026: "validate",
  VFS027: "validate",
  VFS028: "validate",
  VFS029: "validate",
  VFS030: "validate",
  VFS031: "validate",
  VFS032: "validate",
  VFS033: "validate",
  VFS034: "validate",
  VFS036: "validate",
  VFS037: "validate",
  VFS038: "validate",
  VFS039: "validate",
  VFS040: "generator",
  VFS050: "generator",
  VFS060: "usage",
  VFS061: "render",
  VFS070: "render",
};

export interface Diagnostic {
  code: MessageCode;
  /** JSON pointer into the input document ("" for the whole document). */
  pointer: string;
  message: string;
  file?: string;
  line?: number;
  col?: number;
}

function render(template: string, params: Record<string, string | number | boolean>): string {
  return template.replace(/\{(\w+)\}/g, (_, k: string) => (k in params ? String(params[k]) : `{${k}}`));
}

export function message(code: MessageCode, params: Record<string, string | number | boolean> = {}): string {
  return render(Messages[code], params);
}

/**
 * The message without its ", got {got}" clause, which is the only place a message repeats the
 * offending value: for modules run under Ansible's no_log.
 */
export function messageWithoutValue(code: MessageCode, params: Record<string, string | number | boolean> = {}): string {
  return render(Messages[code].replace(/, got \{got\}$/, ""), params);
}

export function diagnostic(
  code: MessageCode,
  pointer: string,
  params: Record<string, string | number | boolean> = {},
): Diagnostic {
  return { code, pointer, message: message(code, params) };
}

/**
 * Control characters (a key may hold a newline) written as \uXXXX, so one diagnostic is always one
 * line and a terminal never receives an escape sequence from a configuration.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

function visible(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`);
}

/** `FILE:LINE:COL: error[CODE] /pointer: message`, the one format every command prints. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.file ? `${visible(d.file)}:${d.line ?? 1}:${d.col ?? 1}: ` : "";
  const pointer = d.pointer === "" ? "(document)" : visible(d.pointer);
  return `${where}error[${d.code}] ${pointer}: ${visible(d.message)}`;
}

/** A failure carrying diagnostics; the CLI prints them and exits non-zero, never a stack trace. */
export class VfsError extends Error {
  constructor(
    readonly diagnostics: Diagnostic[],
    readonly exitCode = 1,
  ) {
    super(diagnostics.map(formatDiagnostic).join("\n"));
  }
}

function pointerEscape(segment: string | number): string {
  return String(segment).replace(/~/g, "~0").replace(/\//g, "~1");
}

export function pointerJoin(base: string, ...segments: (string | number)[]): string {
  return base + segments.map((s) => "/" + pointerEscape(s)).join("");
}
