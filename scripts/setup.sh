#!/usr/bin/env bash
# Installs what the tests need beyond npm packages: Go (for the servers built from their
# modules), openssl (test cluster certificates) and restic (the format oracle). Idempotent:
# it installs only what is missing, so it costs nothing on a prepared machine.
set -euo pipefail

missing=()
command -v openssl >/dev/null || missing+=(openssl)
command -v restic >/dev/null || missing+=(restic)
# The test node (test/env/node.ts): containerd and runc run its Pods, the CNI plugins wire
# them to a bridge, busybox-static makes the workload image, iptables and conntrack route the
# kubernetes Service to the API server, and findmnt (util-linux) finds mounts to undo.
command -v containerd >/dev/null || missing+=(containerd)
command -v runc >/dev/null || missing+=(runc)
[[ -x /usr/lib/cni/bridge ]] || missing+=(containernetworking-plugins)
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)  # the image needs the static one
command -v iptables >/dev/null || missing+=(iptables)
command -v conntrack >/dev/null || missing+=(conntrack)
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing ${missing[*]}; install them (Debian: apt-get install ${missing[*]}) or run as root" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]} from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # No systemd here: the packages' scripts cannot start containerd, which is what the tests want.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v go >/dev/null; then
  echo "setup: Go is not installed; the test servers (kube-apiserver, etcd, MinIO) are built with it" >&2
  exit 1
fi
