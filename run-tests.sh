#!/usr/bin/env bash
# 第二条命令：安装测试所需的一切（含 LibreOffice）并运行全部测试。
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
if ! command -v soffice >/dev/null 2>&1 && ! command -v libreoffice >/dev/null 2>&1; then
  echo "未找到 LibreOffice，正在安装 libreoffice-calc-nogui（用于公式重算验证）……"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libreoffice-calc-nogui >/dev/null
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv --system-site-packages .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]" >/dev/null
exec .venv/bin/python -m pytest -q "$@"
