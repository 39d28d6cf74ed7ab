#!/usr/bin/env bash
# Proof that a run of the Debian 13 stack left the host's files alone (see stack-debian13.sh: in a
# plain chroot libvirt chowned and labelled files outside it).
#
#   check-host-untouched.sh snapshot FILE   record sha256, owner, mode and xattrs (all namespaces,
#                                           trusted.* included) of the watched files into FILE
#   check-host-untouched.sh compare FILE    exit 0 when they are unchanged, 1 with a diff otherwise
#
# Watched: kernel, initrd and base.qcow2 of every cached guest image (LAB_CACHE), the host's
# /dev/userfaultfd, /dev/kvm, /dev/net/tun (if present), plus LAB_WATCH (space-separated paths).
set -euo pipefail
LAB_TAG=host-untouched
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_need_root

CACHE_ROOT=${LAB_CACHE:-$LAB_REPO/.cache/lab}

watched() {
  local d f
  for d in "$CACHE_ROOT"/*/; do
    [[ -f $d/.complete && -f $d/recipe ]] || continue
    for f in "$d"vmlinux "$d"vmlinuz "$d"initrd.img "$d"base.qcow2; do
      [[ -e $f ]] && echo "${f%/}"
    done
  done
  for f in /dev/userfaultfd /dev/kvm /dev/net/tun ${LAB_WATCH:-}; do
    [[ -e $f ]] && echo "$f"
  done
  return 0
}

# One line per file: path, owner, mode, sha256 (regular files), then every xattr name=value.
describe() {
  python3 - "$@" <<'EOF'
import hashlib, os, stat, sys
for p in sys.argv[1:]:
    st = os.stat(p)
    h = "-"
    if stat.S_ISREG(st.st_mode):
        m = hashlib.sha256()
        with open(p, "rb") as f:
            for b in iter(lambda: f.read(1 << 20), b""):
                m.update(b)
        h = m.hexdigest()
    xs = []
    for n in sorted(os.listxattr(p)):
        xs.append("%s=%s" % (n, os.getxattr(p, n).hex()))
    print(p, "%d:%d" % (st.st_uid, st.st_gid), oct(st.st_mode), h, " ".join(xs) or "no-xattrs")
EOF
}

case ${1:-} in
  snapshot)
    [[ -n ${2:-} ]] || lab_die "usage: $0 snapshot FILE"
    mapfile -t files < <(watched)
    describe "${files[@]}" >"$2"
    lab_log "recorded ${#files[@]} host files into $2"
    ;;
  compare)
    [[ -r ${2:-} ]] || lab_die "usage: $0 compare FILE (from a snapshot)"
    mapfile -t files < <(cut -d' ' -f1 "$2")
    if ! diff -u "$2" <(describe "${files[@]}") >&2; then
      lab_die "host files changed (owner, mode, content or xattrs): see the diff above"
    fi
    lab_log "host files unchanged: ${#files[@]} (sha256, owner, mode, xattrs)"
    ;;
  *)
    echo "usage: $0 snapshot|compare FILE" >&2
    exit 2
    ;;
esac
