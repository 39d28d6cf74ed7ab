#!/usr/bin/env bash
# The VM tier of npm test: the Debian 12 stack's scenarios (all of them) and the Debian 13 stack's
# (those whose behaviour differs between the stacks: <readonly/> instead of the wrapper, live replace on
# libvirt 11, the Rust virtiofsd, kernel 6.12) side by side. A TCG guest leaves the cores idle while it
# waits on SSH, on libvirt and on Ansible's own start-up, so the two tiers overlap well on two cores.
# The Debian 13 order starts with the scenarios Debian 12 runs last, so the per-scenario locks
# (scripts/vm-lock.sh) rarely make one stack wait on the other. Each line is prefixed with its stack.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/vm-lock.sh
. "$PWD/scripts/vm-lock.sh"
vm_lock_reexec "$PWD/scripts/test-vm-stacks.sh" "$@"

tier() {
  local name=$1
  shift
  bash scripts/test-vm.sh "$@" 2>&1 | sed -u "s/^/[$name] /"
}
tier debian12 &
debian12=$!
tier debian13 --stack debian13 -s faults -s host -s readonly -s default &
debian13=$!
failed=()
wait "$debian12" || failed+=(debian12)
wait "$debian13" || failed+=(debian13)
if [ ${#failed[@]} -gt 0 ]; then
  echo "[vm] the VM tier failed on: ${failed[*]} (search the log for '[STACK] ' lines)" >&2
  exit 1
fi
