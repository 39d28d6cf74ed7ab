#!/usr/bin/env bash
# Installs the host packages the VM lab needs (Debian 12). Fast no-op when all are present.
# Runs apt-get update once + apt-get install only when something is missing and we are root.
set -euo pipefail
LAB_TAG=install-deps
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PKGS=(qemu-system-x86 qemu-utils qemu-system-common libvirt-daemon-system libvirt-clients
  libxml2-utils mmdebstrap debootstrap eatmydata linux-image-amd64 busybox-static e2fsprogs)
# Not in the list above but required by the scripts (ssh/ssh-keygen); installed only when absent.
[[ -x /usr/bin/ssh && -x /usr/bin/ssh-keygen ]] || PKGS+=(openssh-client)

missing=()
for p in "${PKGS[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ $st == installed ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  lab_log "all ${#PKGS[@]} packages present"
  exit 0
fi
lab_log "missing: ${missing[*]}"
[[ $(id -u) -eq 0 ]] || lab_die "not root: cannot install ${missing[*]}"

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
lab_log "apt-get update done"
apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}" >/dev/null
lab_log "installed: ${missing[*]}"
