#!/usr/bin/env bash
# Installs what the tests need beyond npm packages: Go (for the servers built from their
# modules), openssl (test cluster certificates) and restic (the format oracle). Idempotent:
# it installs only what is missing, so it costs nothing on a prepared machine.
set -euo pipefail

missing=()
command -v openssl >/dev/null || missing+=(openssl)
command -v restic >/dev/null || missing+=(restic)
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing ${missing[*]}; install them (Debian: apt-get install ${missing[*]}) or run as root" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]} from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! command -v go >/dev/null; then
  echo "setup: Go is not installed; the test servers (kube-apiserver, etcd, MinIO) are built with it" >&2
  exit 1
fi
