#!/usr/bin/env bash
# What the platform needs from the operating system, beyond Python packages:
#   - a CJK font for certificate PDFs (Debian: fonts-noto-cjk)
#   - Chromium for the browser tests (Debian: chromium), poppler-utils for reading rendered PDFs in tests, npm for
#     the accessibility checker the page gallery injects (axe-core, pinned in package-lock.json)
#   - PostgreSQL's server (the replica test), PgBouncer and HAProxy (deploy/cluster), wrk (bench/)
#   - WeasyPrint's libraries (pango), present wherever the fonts package is installed on Debian
# `check` says what is missing; `install` installs it with apt-get when run as root, else says what to run.
set -u
mode=${1:-check}
missing=()
have_font() { fc-list 2>/dev/null | grep -qi "Noto Sans CJK\|Noto Serif CJK"; }
have_font || missing+=(fonts-noto-cjk)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
# npm installs axe-core (package-lock.json) for the page gallery's accessibility check.
command -v npm >/dev/null 2>&1 || missing+=(npm)
ldconfig -p 2>/dev/null | grep -q libpango-1.0 || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
# The replica test (tests/deploy) starts its own PostgreSQL clusters; deploy/cluster and bench/ also need
# PgBouncer, HAProxy and wrk.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
# Without HarfBuzz's subsetter WeasyPrint falls back to fontTools: ~1 s instead of ~0.1 s per certificate.
ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset || missing+=(libharfbuzz-subset0)

[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$mode" = "install" ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    && exit 0
  echo "could not install: ${missing[*]}" >&2
  exit 1
fi
echo "note: missing system packages: ${missing[*]} (install with: sudo apt-get install ${missing[*]})." >&2
echo "      PDFs need the CJK font; browser tests skip without chromium, except in CI where they fail." >&2
exit 0
