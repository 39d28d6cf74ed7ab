#!/usr/bin/env bash
# Debian packages the test tiers need: virt-xml-validate (libvirt-clients, libxml2-utils) and, for
# the VM tier, QEMU, libvirt, virtiofsd and the image tools (lab/install-deps.sh).
# Installs only as root and only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for pkg in libvirt-clients libxml2-utils dpkg-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "[setup] missing Debian packages ${need[*]}; run as root or install them" >&2
    exit 1
  fi
  echo "[setup] apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
