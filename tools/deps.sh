#!/bin/sh
# Install every Debian package the build, the tests and the demo need.
# Idempotent: asks apt only for what is missing. Runs as root, or through sudo.
set -eu
PKGS="build-essential pkg-config openssl
libzmq3-dev libczmq-dev libssl-dev libsqlite3-dev sqlite3 libyaml-dev libjansson-dev
libargon2-dev libcurl4-openssl-dev libcairo2-dev libpango1.0-dev libseccomp-dev
libpcsclite-dev libcmocka-dev libqpdf-dev qpdf libmicrohttpd-dev
pcscd pcsc-tools vsmartcard-vpcd opensc yubico-piv-tool iproute2 procps
softhsm2 libengine-pkcs11-openssl
python3-aiosmtpd python3-cryptography fonts-wqy-microhei poppler-utils time
clang libclang-rt-14-dev valgrind
libmicrohttpd-dev libgnutls28-dev fonts-dejavu-core curl chromium chromium-driver python3-selenium
systemd passwd
prometheus prometheus-node-exporter"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
