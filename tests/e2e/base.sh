#!/usr/bin/env bash
# The Debian base image every e2e stand-in builds FROM, made from this machine's own apt sources.
#
# No registry other than Debian's is reachable, so nothing can be pulled: mmdebstrap builds a
# minimal Debian (the host's release, the host's sources.list entries) into a tarball that
# `docker import` turns into an image. The tag is checked first, so a second run costs nothing.
set -euo pipefail
TAG=${E2E_BASE_TAG:-gpu-platform-e2e/debian:base-1}
if docker image inspect "$TAG" >/dev/null 2>&1; then
  echo "base: $TAG present, kept"
  exit 0
fi
. /etc/os-release
sources=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && grep -qE '^(deb |Types:)' "$f" && sources+=("$f")
done
[ ${#sources[@]} -gt 0 ] || { echo "base: no apt sources found under /etc/apt" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mmdebstrap --quiet --variant=minbase --format=tar \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  "$VERSION_CODENAME" "$work/rootfs.tar" "${sources[@]}"
docker import --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' \
  "$work/rootfs.tar" "$TAG" >/dev/null
echo "base: built $TAG ($(du -h "$work/rootfs.tar" | cut -f1) tarball, debian $VERSION_CODENAME)"
