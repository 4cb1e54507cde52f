#!/usr/bin/env bash
# setup-browser.sh installs Debian's chromium, the headless browser that
# renders the Three.js competition modules and drives the web page and viewer
# tests (pipeline/browser). apt-get checks each package against the signed
# index of the machine's own apt sources. Idempotent: nothing happens when
# chromium is already installed.
set -euo pipefail

command -v chromium >/dev/null && exit 0
command -v apt-get >/dev/null || { echo "setup: error: chromium missing and no apt-get; install Chromium and set SPLATBENCH_CHROMIUM" >&2; exit 1; }
sudo=""
[[ $(id -u) -ne 0 ]] && sudo=sudo
echo "setup: apt-get install chromium" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
command -v chromium >/dev/null || { echo "setup: error: chromium not on PATH after apt-get install" >&2; exit 1; }
