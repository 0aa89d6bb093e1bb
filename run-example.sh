#!/usr/bin/env bash
# 第一条命令：安装并运行主流程（生成全部模板，用 examples/ 的示例数据填好自评表，写入 output/）。
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv --system-site-packages .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e . >/dev/null
.venv/bin/jxzp demo -o output "$@"
echo
echo "完成。模板和填好的自评表在 output/ 中；命令行工具：.venv/bin/jxzp --help"
