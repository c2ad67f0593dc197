#!/usr/bin/env bash
# Install the system programs ivp needs when they are missing: ffmpeg always, plus any extra
# "command:package" pairs given as arguments (e.g. espeak-ng:espeak-ng chromium:chromium).
# Debian/Ubuntu via apt; elsewhere, say what to install.
set -euo pipefail
wanted=("ffmpeg:ffmpeg" "ffprobe:ffmpeg" "$@")
packages=()
for pair in "${wanted[@]}"; do
  cmd=${pair%%:*}; pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || packages+=("$pkg")
done
[ ${#packages[@]} -eq 0 ] && exit 0
packages=($(printf '%s\n' "${packages[@]}" | sort -u))
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "installing ${packages[*]} (apt)..."
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
else
  echo "error: please install ${packages[*]} with your package manager (e.g. brew install ffmpeg)" >&2
  exit 1
fi
