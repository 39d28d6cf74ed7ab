#!/usr/bin/env bash
# virsh on the stack LAB_STACK names (debian12: the host's; debian13: stack-debian13.sh's rootfs).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab_virsh "$@"
