#!/usr/bin/env bash
# Prints the libvirt domain type to use: "kvm" or "qemu" (TCG). Reason on stderr.
# /dev/kvm alone is not enough: on these machines it may come from kvm_pvm (software "PVM"
# nested virtualisation), which only runs PVM-enabled guest kernels - a stock Debian kernel hangs.
# So KVM is used only with real hardware virtualisation (kvm_intel or kvm_amd loaded).
# LAB_ACCEL=kvm|qemu forces the answer.
set -euo pipefail

if [[ -n ${LAB_ACCEL:-} ]]; then
  echo "accel: $LAB_ACCEL (forced by LAB_ACCEL)" >&2
  echo "$LAB_ACCEL"
  exit 0
fi
hw=""
for m in kvm_intel kvm_amd; do
  [[ -d /sys/module/$m ]] && hw=$m
done
if [[ -n $hw && -c /dev/kvm && -r /dev/kvm && -w /dev/kvm ]]; then
  echo "accel: kvm ($hw loaded, /dev/kvm usable)" >&2
  echo kvm
elif [[ -n $hw ]]; then
  echo "accel: qemu/TCG ($hw loaded but /dev/kvm missing or not accessible)" >&2
  echo qemu
elif [[ -d /sys/module/kvm_pvm ]]; then
  echo "accel: qemu/TCG (/dev/kvm is kvm_pvm: stock guest kernels hang on it)" >&2
  echo qemu
else
  echo "accel: qemu/TCG (no kvm_intel/kvm_amd module)" >&2
  echo qemu
fi
