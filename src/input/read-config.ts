import * as fs from "fs";
import { MAX_CONFIG_BYTES, READ_IDLE_TIMEOUT_MS } from "./limits";

export type ReadResult =
  | { text: string }
  | { problem: "read"; detail: string }
  | { problem: "size" }
  | {
      problem: "utf8";
      byte: number;
      offset: number;
      line: number;
      col: number;
      lossyText: string;
      lossyOffset: number;
    };

const FILE_TYPES: [keyof fs.Stats, string][] = [
  ["isCharacterDevice", "a character device"],
  ["isBlockDevice", "a block device"],
  ["isFIFO", "a FIFO"],
  ["isSocket", "a socket"],
];

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Reads at most MAX_CONFIG_BYTES + 1 bytes, so a device such as /dev/zero or a huge file ends in a
 * size error instead of filling memory. A FIFO (`vfsgen validate <(…)`) is read until its writer
 * closes it; opened non-blocking, so one without a writer reads as empty instead of blocking, and one
 * whose writer sends nothing for READ_IDLE_TIMEOUT_MS is given up on.
 */
function readBounded(file: string): ReadResult | Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    return { problem: "read", detail: errnoDetail(e as NodeJS.ErrnoException) };
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) return { problem: "read", detail: "is a directory" };
    const kind = FILE_TYPES.find(([test]) => (st[test] as () => boolean).call(st))?.[1];
    // sized from stat, grown when the file says less than it has (/proc files, devices say 0)
    let buf = Buffer.allocUnsafe(Math.min(MAX_CONFIG_BYTES + 1, Math.max(st.size + 1, 64 * 1024)));
    let length = 0;
    let idleSince = Date.now();
    while (length <= MAX_CONFIG_BYTES) {
      if (length === buf.length)
        buf = Buffer.concat([buf, Buffer.allocUnsafe(Math.min(buf.length, MAX_CONFIG_BYTES + 1 - buf.length))]);
      let n: number;
      try {
        n = fs.readSync(fd, buf, length, buf.length - length, null);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code !== "EAGAIN" && err.code !== "EWOULDBLOCK") return { problem: "read", detail: errnoDetail(err) };
        if (Date.now() - idleSince > READ_IDLE_TIMEOUT_MS)
          return { problem: "read", detail: `${kind ?? "the file"} sent no data for ${READ_IDLE_TIMEOUT_MS / 1000} s` };
        Atomics.wait(sleeper, 0, 0, 10);
        continue;
      }
      if (n === 0) break;
      length += n;
      idleSince = Date.now();
    }
    if (length > MAX_CONFIG_BYTES) return { problem: "size" };
    return buf.subarray(0, length);
  } finally {
    fs.closeSync(fd);
  }
}

function errnoDetail(err: NodeJS.ErrnoException): string {
  if (err.code === "ENOENT") return "no such file";
  if (err.code === "EISDIR") return "is a directory";
  if (err.code === "EACCES") return "permission denied";
  return err.message;
}

/** Length of the valid UTF-8 prefix of bytes (the offset of the first invalid byte), or -1 when all is valid. */
function firstInvalidUtf8(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    let n: number;
    let min: number;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) [n, min] = [1, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [n, min] = [2, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const cc = b[i + k];
      if (cc === undefined || (cc & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8
    if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return i;
    i += n + 1;
  }
  return -1;
}

/** A configuration file's text, or why it cannot be read as one. */
export function readConfigFile(file: string): ReadResult {
  const bytes = readBounded(file);
  if (!Buffer.isBuffer(bytes)) return bytes;
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) {
    const before = bytes.subarray(0, bad).toString("utf8");
    const lineStart = before.lastIndexOf("\n") + 1;
    const lossyText = bytes.toString("utf8");
    return {
      problem: "utf8",
      byte: bytes[bad],
      offset: bad,
      line: before.split("\n").length,
      col: before.length - lineStart + 1,
      lossyText,
      lossyOffset: before.length,
    };
  }
  return { text: bytes.toString("utf8") };
}
