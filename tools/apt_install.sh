#!/bin/bash
# Installs the Debian packages given that are not installed yet, quietly: apt's output
# goes to .build/apt.log (shown only if apt fails), and each package installed is one
# line. Uses sudo unless run as root.
set -euo pipefail
missing=()
for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
mkdir -p .build
log=.build/apt.log
if ! { $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } > "$log" 2>&1; then
    cat "$log"; echo "apt_install: installing ${missing[*]} failed (above; also in $log)"; exit 1
fi
for p in "${missing[@]}"; do echo "installed $p $(dpkg-query -W -f='${Version}' "$p")"; done
