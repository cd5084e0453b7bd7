#!/usr/bin/env bash
# Install everything libiotkit needs to build, test and run its demo.
# Idempotent: packages already present are left alone. Debian/Ubuntu only.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git
  libmosquitto-dev mosquitto mosquitto-clients
  libcjson-dev libssl-dev openssl
  libcurl4-openssl-dev curl
  libcoap3-dev libcoap3-bin
  libcriterion-dev libcbor-dev libmicrohttpd-dev
  liblua5.4-dev lua5.4 liblua5.1-0-dev lua5.1 libluajit-5.1-dev luajit luarocks
  python3 python3-dev python3-cffi python3-setuptools python3-pytest python3-pytest-asyncio python3-paho-mqtt
  python3-awscrt python3-venv python3-pip python3-wheel
  python3-pandas
  libsqlite3-dev sqlite3
  nginx-light
  clang libclang-rt-dev
  valgrind
  # the demo's web dashboard (dashboard/) and its browser test
  python3-fastapi python3-uvicorn python3-httpx
  nodejs chromium
)
# npm: Debian's package, unless the installed nodejs already brings its own
# (a nodejs from another repository conflicts with Debian's npm).
command -v npm >/dev/null 2>&1 || PKGS+=(npm)

if [ ! -r /etc/os-release ] || ! grep -qiE '^(ID|ID_LIKE)=.*(debian|ubuntu)' /etc/os-release; then
  echo "install-deps: this script supports Debian and Ubuntu (apt-get) only." >&2
  echo "install-deps: on other systems install the equivalents of: ${PKGS[*]}" >&2
  exit 2
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 2
  fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The mosquitto and nginx packages may start system services; the project never uses them
# (tests start private instances on free loopback ports), so leave them as the system has them.
echo "install-deps: done"
