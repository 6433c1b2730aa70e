# Shared by scripts/demo and scripts/test: find Python >= 3.12, make .venv, install Minbar.
# shellcheck shell=bash
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MINBAR_VENV:-$ROOT/.venv}"

_python_ok() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

# Look where a user's machine offers Python: an explicit choice, versioned
# commands on PATH, then version managers (pyenv, uv), newest first.
find_python() {
  local candidate
  if [[ -n "${MINBAR_PYTHON:-}" ]]; then
    if _python_ok "$MINBAR_PYTHON"; then echo "$MINBAR_PYTHON"; return 0; fi
    echo "MINBAR_PYTHON=$MINBAR_PYTHON is not Python >= 3.12" >&2; return 1
  fi
  for candidate in python3.14 python3.13 python3.12 python3 python; do
    if command -v "$candidate" >/dev/null 2>&1 && _python_ok "$candidate"; then
      command -v "$candidate"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    local root version
    root="$(pyenv root)"
    for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9]|[2-9][0-9])(\.[0-9]+)?$' | sort -t. -k1,1n -k2,2n -k3,3n -r); do
      candidate="$root/versions/$version/bin/python3"
      if [[ -x "$candidate" ]] && _python_ok "$candidate"; then echo "$candidate"; return 0; fi
    done
  fi
  if command -v uv >/dev/null 2>&1; then
    candidate="$(uv python find '>=3.12' 2>/dev/null || true)"
    if [[ -n "$candidate" ]] && _python_ok "$candidate"; then echo "$candidate"; return 0; fi
  fi
  for candidate in /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9] /opt/homebrew/bin/python3.1[2-9]; do
    if [[ -x "$candidate" ]] && _python_ok "$candidate"; then echo "$candidate"; return 0; fi
  done
  echo "Minbar needs Python 3.12 or newer and none was found." >&2
  echo "Install it (e.g. 'apt install python3.12', 'brew install python@3.12', 'pyenv install 3.12')" >&2
  echo "or point MINBAR_PYTHON at one." >&2
  return 1
}

# PDF reports (WeasyPrint) need Pango, HarfBuzz's subsetter and a font with Arabic
# letters. Prints the Debian packages missing, one a line.
missing_pdf_packages() {
  local libs
  libs="$(ldconfig -p 2>/dev/null || true)"
  grep -q 'libpango-1.0.so.0' <<<"$libs" || echo libpango-1.0-0
  grep -q 'libpangoft2-1.0.so.0' <<<"$libs" || echo libpangoft2-1.0-0
  grep -q 'libharfbuzz-subset.so.0' <<<"$libs" || echo libharfbuzz-subset0
  command -v fc-list >/dev/null 2>&1 || echo fontconfig
  { command -v fc-list >/dev/null 2>&1 && fc-list ':lang=ar' | grep -q .; } || echo fonts-dejavu-core
}

# Install the PDF libraries with apt when running as root on Debian; otherwise say
# what to install ($1 = "required" stops here, anything else only warns).
ensure_pdf_packages() {
  local -a missing
  mapfile -t missing < <(missing_pdf_packages)
  (( ${#missing[@]} )) || return 0
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "==> Installing ${missing[*]} (PDF reports: Pango, HarfBuzz and a font with Arabic)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    return 0
  fi
  echo "PDF reports need these system packages: ${missing[*]}" >&2
  echo "(e.g. 'sudo apt-get install ${missing[*]}'; see docs/reports.md)." >&2
  [[ "${1:-}" != required ]] || return 1
}

# Install Minbar into .venv; $1 is the extra ("" or "dev"). Skipped when
# nothing it depends on changed since the last install.
setup_venv() {
  local extra="${1:-}" python stamp want
  if [[ ! -x "$VENV/bin/python" ]] || ! _python_ok "$VENV/bin/python"; then
    python="$(find_python)"
    echo "==> Creating $VENV with $("$python" --version 2>&1)"
    rm -rf "$VENV"
    "$python" -m venv "$VENV"
  fi
  stamp="$VENV/.minbar-installed"
  want="$(cat "$ROOT/pyproject.toml" "$ROOT/constraints.txt" | sha256sum | cut -c1-16)-${extra}"
  if [[ ! -f "$stamp" ]] || ! grep -qx -- "$want" "$stamp"; then
    echo "==> Installing Minbar${extra:+ [$extra]} and its pinned dependencies"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
      -c "$ROOT/constraints.txt" -e "$ROOT${extra:+[$extra]}"
    echo "$want" > "$stamp"
  fi
  "$VENV/bin/python" -m minbar.i18n_build >/dev/null
}
