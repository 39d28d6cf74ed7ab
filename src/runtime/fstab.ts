/**
 * fstab as a list of lines that serialises back byte for byte: comments, blank lines, odd spacing,
 * unparsable lines, CRLF and a missing trailing newline are kept. Only lines the caller replaces,
 * removes or appends are written in the canonical form `SPEC FILE TYPE OPTIONS DUMP PASS`.
 */
import * as path from "path";

/** Decodes the octal escapes getmntent(3) understands: \040 space, \011 tab, \012 newline, \134 backslash. */
export function decodeFstabField(field: string): string {
  let out = "";
  for (let i = 0; i < field.length; i++) {
    const c = field[i];
    if (c === "\\" && isOctal(field, i + 1)) {
      const code = parseInt(field.slice(i + 1, i + 4), 8);
      if (code === 0o40 || code === 0o11 || code === 0o12 || code === 0o134) {
        out += String.fromCharCode(code);
        i += 3;
        continue;
      }
    }
    out += c;
  }
  return out;
}

function isOctal(s: string, at: number): boolean {
  if (at + 3 > s.length) return false;
  for (let k = at; k < at + 3; k++) if (s[k] < "0" || s[k] > "7") return false;
  return true;
}

/** Encodes space, tab, newline and backslash as octal escapes (the inverse of decodeFstabField). */
export function encodeFstabField(value: string): string {
  let out = "";
  for (const c of value) {
    if (c === " ") out += "\\040";
    else if (c === "\t") out += "\\011";
    else if (c === "\n") out += "\\012";
    else if (c === "\\") out += "\\134";
    else out += c;
  }
  return out;
}

export interface FstabEntry {
  /** First field (for virtiofs: the tag), decoded. */
  spec: string;
  /** Mount point, decoded. */
  file: string;
  vfstype: string;
  /** Options string as written (comma-separated). */
  mntops: string;
  freq: string;
  passno: string;
}

export interface FstabLine {
  /** The line exactly as read (without its newline); regenerated only for replaced/added lines. */
  raw: string;
  /** Parsed fields, or undefined for comments, blank and unparsable lines. */
  entry?: FstabEntry;
}

export interface Fstab {
  lines: FstabLine[];
  /** Whether the text ended with a newline (an empty file counts as having none). */
  trailingNewline: boolean;
}

/** Splits on runs of spaces and tabs (the only separators fstab knows). */
function splitFields(line: string): string[] {
  const fields: string[] = [];
  let cur = "";
  for (const c of line) {
    if (c === " " || c === "\t") {
      if (cur !== "") fields.push(cur);
      cur = "";
    } else cur += c;
  }
  if (cur !== "") fields.push(cur);
  return fields;
}

/** Parses one line; undefined for comments, blank lines and lines with fewer than 3 fields. */
export function parseFstabLine(raw: string): FstabEntry | undefined {
  const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
  const trimmed = line.trimStart();
  if (trimmed === "" || trimmed.startsWith("#")) return undefined;
  const f = splitFields(line);
  if (f.length < 3) return undefined;
  return {
    spec: decodeFstabField(f[0]),
    file: decodeFstabField(f[1]),
    vfstype: f[2],
    mntops: f[3] ?? "defaults",
    freq: f[4] ?? "0",
    passno: f[5] ?? "0",
  };
}

export function parseFstab(text: string): Fstab {
  if (text === "") return { lines: [], trailingNewline: false };
  const trailingNewline = text.endsWith("\n");
  const body = trailingNewline ? text.slice(0, -1) : text;
  const lines = body.split("\n").map((raw) => ({ raw, entry: parseFstabLine(raw) }));
  return { lines, trailingNewline };
}

export function serialiseFstab(fstab: Fstab): string {
  if (fstab.lines.length === 0) return "";
  return fstab.lines.map((l) => l.raw).join("\n") + (fstab.trailingNewline ? "\n" : "");
}

/** The canonical line for an entry: fields separated by one space, spec and file escaped. */
export function formatFstabEntry(e: FstabEntry): string {
  return [encodeFstabField(e.spec), encodeFstabField(e.file), e.vfstype, e.mntops, e.freq, e.passno].join(" ");
}

/** Same meaning (decoded fields compared; a missing dump/pass equals 0). */
export function sameFstabEntry(a: FstabEntry, b: FstabEntry): boolean {
  return (
    a.spec === b.spec &&
    a.file === b.file &&
    a.vfstype === b.vfstype &&
    a.mntops === b.mntops &&
    Number(a.freq) === Number(b.freq) &&
    Number(a.passno) === Number(b.passno)
  );
}

/** Appends a canonical line; the file then ends with a newline. */
export function appendFstabEntry(fstab: Fstab, e: FstabEntry): void {
  fstab.lines.push({ raw: formatFstabEntry(e), entry: { ...e } });
  fstab.trailingNewline = true;
}

/** Replaces line i with the canonical form of e, keeping a CR of a CRLF file. */
export function replaceFstabLine(fstab: Fstab, i: number, e: FstabEntry): void {
  const cr = fstab.lines[i].raw.endsWith("\r") ? "\r" : "";
  fstab.lines[i] = { raw: formatFstabEntry(e) + cr, entry: { ...e } };
}

/**
 * The mount point a decoded fstab path names, spelled once: `//` and `.` components and a trailing
 * slash removed, `..` folded lexically (as path.posix.normalize does). `/mnt/data/`, `/mnt//data` and
 * `/mnt/./data` are all `/mnt/data`. Non-absolute fields (`none`, `swap`) are returned as they are.
 */
export function normaliseMountPath(file: string): string {
  if (!file.startsWith("/")) return file;
  const n = path.posix.normalize(file);
  return n.length > 1 && n.endsWith("/") ? n.slice(0, -1) : n;
}
