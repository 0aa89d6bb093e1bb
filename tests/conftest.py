import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from xlsx_engine.ooxml.recalc import find_soffice  # noqa: E402

SEEDS = ROOT / "tests" / "data" / "seeds"


@pytest.fixture(scope="session")
def soffice():
    """LibreOffice is part of the test environment: missing it is a failure, not a skip.

    Set JXZP_SKIP_LIBREOFFICE=1 to skip these tests deliberately on a machine without it.
    """
    path = find_soffice()
    if path is None:
        if os.environ.get("JXZP_SKIP_LIBREOFFICE"):
            pytest.skip("LibreOffice 未安装（JXZP_SKIP_LIBREOFFICE=1）")
        pytest.fail("LibreOffice (soffice) 未安装：请运行 ./run-tests.sh，它会安装 libreoffice-calc-nogui")
    return path
