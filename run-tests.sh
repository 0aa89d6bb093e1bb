#!/usr/bin/env bash
# 第二条命令：安装测试所需的一切（含 LibreOffice 和 Gnumeric）并运行全部测试。
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
need=""
for pkg in libreoffice-calc-nogui libreoffice-writer-nogui gnumeric poppler-utils fonts-noto-cjk; do
  installed "$pkg" || need="$need $pkg"
done
if [ -n "$need" ]; then
  echo "正在安装测试所需的软件：$need（LibreOffice 和 Gnumeric 是两个独立的公式重算引擎，LibreOffice 还用于 Word 报告转换，poppler 用于读取 PDF 文本，中文字体用于生成 PDF）……"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need >/dev/null
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv --system-site-packages .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]" >/dev/null
exec .venv/bin/python -m pytest -q "$@"
