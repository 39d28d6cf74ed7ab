/**
 * Replaces a file atomically: a temporary file in the same directory, written and fsynced, given the
 * mode and owner of the file it replaces (or defaultMode for a new file), renamed over it, and the
 * directory fsynced. A symbolic link is followed so the link itself stays.
 */
import * as fs from "fs";
import * as path from "path";

export function writeFileAtomic(file: string, content: string, defaultMode = 0o644): void {
  let target: string;
  try {
    target = fs.realpathSync(file);
  } catch {
    target = file;
  }
  let mode = defaultMode;
  let owner: { uid: number; gid: number } | undefined;
  try {
    const st = fs.statSync(target);
    mode = st.mode & 0o7777;
    owner = { uid: st.uid, gid: st.gid };
  } catch {
    owner = undefined;
  }
  const dir = path.dirname(target);
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${Date.now()}.tmp`);
  const fd = fs.openSync(tmp, "wx", 0o600);
  try {
    fs.writeSync(fd, content);
    if (owner && (owner.uid !== process.getuid?.() || owner.gid !== process.getgid?.())) {
      try {
        fs.fchownSync(fd, owner.uid, owner.gid);
      } catch {
        /* not root: the file keeps our ownership */
      }
    }
    fs.fchmodSync(fd, mode);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, target);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  try {
    const dfd = fs.openSync(dir, "r");
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    /* some file systems refuse fsync on a directory */
  }
}

/** Ansible's backup name: FILE.PID.YYYY-MM-DD@HH:MM:SS~ (local time). Copies mode too. */
export function backupFile(file: string, now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  const stamp = `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}@${p(now.getHours())}:${p(now.getMinutes())}:${p(now.getSeconds())}~`;
  const dest = `${file}.${process.pid}.${stamp}`;
  fs.copyFileSync(file, dest, fs.constants.COPYFILE_EXCL);
  const st = fs.statSync(file);
  fs.chmodSync(dest, st.mode & 0o7777);
  return dest;
}
