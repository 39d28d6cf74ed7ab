#!/usr/bin/env bash
# npm run demo: boots a guest from the GENERATED libvirt template with ./demo-share shared over
# virtio-fs, applies the generated runtime playbook, prints the proof, and tears everything down.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
t0=$(date +%s)
say() { echo "[demo $(( $(date +%s) - t0 ))s] $*"; }
# shellcheck source=../lab/lib.sh
. lab/lib.sh # lab_render_domain: the same rendering as the lab smoke test and Molecule

[ -d node_modules ] || { say "npm ci"; npm ci --no-audit --no-fund --loglevel=error; }
say "python tools (.venv)"
bash scripts/setup-venv.sh
say "host packages (QEMU, libvirt, virtiofsd, image tools)"
bash lab/install-deps.sh
export PATH="$repo/.venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$repo/collection" ANSIBLE_HOST_KEY_CHECKING=false

say "guest image (cached after the first build)"
image=$(bash lab/build-image.sh | tail -n 1)
accel=$(bash lab/accel.sh)
say "accelerator: $accel"

work=$(mktemp -d /var/tmp/vfs-demo.XXXXXX)
chmod 755 "$work"
name="vfs-demo-$$"
cleanup() {
  say "tearing down"
  bash lab/domain.sh down "$name" >/dev/null 2>&1 || true
  bash lab/libvirtd.sh stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

bash lab/libvirtd.sh start
version=$(virsh -c qemu:///system version --daemon | awk '/daemon/ {print $NF}')
mkdir -p demo-share
echo "hello from the host, $(date -u +%FT%TZ)" > demo-share/hello.txt
rm -f demo-share/from-guest.txt
port=$(bash lab/domain.sh free-port)
bash lab/domain.sh overlay "$image/base.qcow2" "$work/disk.qcow2" >/dev/null

say "rendering generated/templates/controller.xml.j2 with Ansible's template module"
mounts=$(python3 -c 'import json, sys; print(json.dumps([{"tag": "demo", "host_path": sys.argv[1], "mount_point": "/mnt/demo-share"}]))' "$repo/demo-share")
lab_render_domain "$work/domain.xml" vm_name="$name" vm_domain_type="$accel" vm_cpu_cores:=2 vm_memory_mb:=1024 \
  vm_disk_path="$work/disk.qcow2" vm_kernel="$image/$(cat "$image/kernel")" vm_initrd="$image/initrd.img" \
  vm_cmdline="$(cat "$image/cmdline")" vm_serial_log="$work/serial.log" vm_ssh_forward_port:="$port" \
  vm_tcg_tb_cache_mb:=128 virtio_fs_libvirt_version="$version" virtio_fs_mounts:="$mounts"
say "booting the guest through libvirt (libvirt starts virtiofsd)"
bash lab/domain.sh up "$name" "$work/domain.xml" "$port"

cat > "$work/inventory.yml" <<YAML
all:
  hosts:
    demo:
      ansible_host: 127.0.0.1
      ansible_port: $port
      ansible_user: root
      ansible_ssh_private_key_file: $image/id_ed25519
      ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
      ansible_python_interpreter: /usr/bin/python3
      virtio_fs_mounts:
        - tag: demo
          mount_point: /mnt/demo-share
          owner: admin
          group: admin
YAML
say "ansible-playbook ai_how.virtio_fs.virtio_fs_runtime_config"
ansible-playbook -i "$work/inventory.yml" ai_how.virtio_fs.virtio_fs_runtime_config

guest() { ssh -i "$image/id_ed25519" -p "$port" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR root@127.0.0.1 "$@"; }
say "proof"
echo "  guest reads the host's file:   $(guest cat /mnt/demo-share/hello.txt)"
guest "echo 'hello from the guest' > /mnt/demo-share/from-guest.txt"
echo "  host reads the guest's file:   $(cat demo-share/from-guest.txt)"
echo "  guest mount:                   $(guest findmnt -n -o SOURCE,TARGET,FSTYPE,OPTIONS /mnt/demo-share)"
echo "  guest fstab:                   $(guest grep ' virtiofs ' /etc/fstab)"
say "done"
