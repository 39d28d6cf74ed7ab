import type { Ir } from "../../ir/types";
import { hashHeader } from "../header";

/**
 * The virtiofsd wrapper that makes a read-only share read-only on the host where libvirt has no
 * <readonly/> (before 11.0): the host role installs it at virtio_fs_readonly_wrapper_path and the
 * domain XML names it as the share's <binary path>. A POSIX shell script: every value it handles is
 * an argument or a variable expanded in double quotes, never evaluated; what it cannot tell for sure
 * stops it before virtiofsd starts. Its behaviour is tested in test/readonly-wrapper.test.ts.
 */
export function readonlyWrapperScript(ir: Ir): string {
  return `#!/bin/sh
${hashHeader(ir)}# Read-only virtio-fs on a libvirt without <readonly/> (before 11.0): libvirt runs this as the
# share's <binary path>. It starts the real virtiofsd (the first line of "$0.conf") in a private mount
# namespace over a read-only bind mount of the share's source, so the host kernel refuses every write
# (EROFS) whatever the guest does; the host's mount table is not changed. It fails closed: virtiofsd
# never starts when the source cannot be told exactly or the read-only bind mount fails.
# The source is named by libvirt as "-o source=DIR,..." (C virtiofsd; "," in DIR doubled) or
# "--shared-dir DIR" (Rust virtiofsd). Only a non-recursive bind is made: mounts below the source are
# not seen through the share.
set -u

die() {
  printf 'virtiofsd-readonly: %s; virtiofsd not started\\n' "$1" >&2
  exit 1
}

conf="$0.conf"
real=
{ IFS= read -r real || [ -n "$real" ]; } <"$conf" || die "cannot read $conf (the real virtiofsd path)"
case $real in
/*) ;;
*) die "$conf does not name an absolute virtiofsd path" ;;
esac
[ -x "$real" ] || die "$real (from $conf) is not executable"

src=
sources=0
# found DIR: one more source; more than one is ambiguous (virtiofsd would pick one itself)
found() {
  src=$1
  sources=$((sources + 1))
}
# options VALUE: a -o value, items separated by ","; a comma or backslash in the source cannot be
# told apart from virtiofsd's own option syntax, so such a source is refused
options() {
  rest=$1
  while [ -n "$rest" ]; do
    item=\${rest%%,*}
    case $rest in
    *,*) rest=\${rest#*,} ;;
    *) rest= ;;
    esac
    case $item in
    source=*)
      case $rest in
      ,*) die "the share source contains a comma, which this wrapper refuses" ;;
      esac
      case $item in
      *\\\\*) die "the share source contains a backslash, which this wrapper refuses" ;;
      esac
      found "\${item#source=}"
      ;;
    esac
  done
}
expect_value=
for arg in "$@"; do
  case $expect_value in
  o) options "$arg" ;;
  shared) found "$arg" ;;
  esac
  [ -n "$expect_value" ] && {
    expect_value=
    continue
  }
  case $arg in
  -o) expect_value=o ;;
  -o*) options "\${arg#-o}" ;;
  --shared-dir) expect_value=shared ;;
  --shared-dir=*) found "\${arg#--shared-dir=}" ;;
  esac
done
[ -z "$expect_value" ] || die "the last argument $arg has no value"

if [ "$sources" -eq 0 ]; then
  # no share (--print-capabilities, --version, --help): nothing is served, so nothing to protect
  exec "$real" "$@"
fi
[ "$sources" -eq 1 ] || die "$sources share sources in the arguments, expected one"
case $src in
/*) ;;
*) die "the share source is not an absolute path" ;;
esac
[ -d "$src" ] || die "the share source is not a directory"

# In the new namespace: bind the source over itself, make that bind read-only, check that the
# mount at the source is now read-only (else refuse), then become virtiofsd.
# shellcheck disable=SC2016 # the inner script is meant literally; its values come as arguments
exec unshare --mount --propagation private -- /bin/sh -c '
set -u
src=$1 real=$2
shift 2
fail() { printf "virtiofsd-readonly: %s; virtiofsd not started\\n" "$1" >&2; exit 1; }
mount --bind -- "$src" "$src" || fail "cannot bind-mount the share source"
mount -o remount,bind,ro -- "$src" "$src" || fail "cannot make the share source read-only"
opts=$(findmnt -n -r -o VFS-OPTIONS --mountpoint "$src" | tail -n 1) || fail "cannot read the mount of the share source"
case ,$opts, in
*,ro,*) ;;
*) fail "the share source is still writable ($opts)" ;;
esac
exec "$real" "$@"
' virtiofsd-readonly "$src" "$real" "$@"
`;
}
