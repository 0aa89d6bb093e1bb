#!/usr/bin/env bash
# 第二条命令：安装测试所需的一切（含 LibreOffice 和 Gnumeric）并运行全部测试。
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
need=""
for pkg in libreoffice-calc-nogui libreoffice-writer-nogui gnumeric poppler-utils fonts-noto-cjk fonts-crosextra-carlito; do
  installed "$pkg" || need="$need $pkg"
done
if [ -n "$need" ]; then
  echo "正在安装测试所需的软件：$need（LibreOffice 用于公式重算和 Word 报告转换，Gnumeric 是第二个独立的重算引擎，poppler 用于读取 PDF 文本，中文字体用于生成 PDF，Carlito 与 Excel 默认字体 Calibri 等宽，使列宽和分页与 Excel 一致）……"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need >/dev/null
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv --system-site-packages .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]" >/dev/null
exec .venv/bin/python -m pytest -q "$@"
