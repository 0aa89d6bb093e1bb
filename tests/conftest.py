import functools
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from xlsx_engine.ooxml.recalc import (  # noqa: E402
    find_soffice,
    find_ssconvert,
    recalc_files,
    recalc_files_gnumeric,
)

from engines import Engine  # noqa: E402

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


@pytest.fixture(scope="session")
def ssconvert():
    """Gnumeric is part of the test environment like LibreOffice: missing it is a failure, not a skip."""
    path = find_ssconvert()
    if path is None:
        if os.environ.get("JXZP_SKIP_LIBREOFFICE"):
            pytest.skip("Gnumeric 未安装（JXZP_SKIP_LIBREOFFICE=1）")
        pytest.fail("Gnumeric (ssconvert) 未安装：请运行 ./run-tests.sh，它会安装 gnumeric")
    return path


@pytest.fixture(scope="session", params=["LibreOffice", "Gnumeric"])
def engine(request):
    """Each of the two independent engines (:mod:`engines`) in turn; a test using it runs once per engine."""
    if request.param == "LibreOffice":
        exe = request.getfixturevalue("soffice")
        return Engine("LibreOffice", functools.partial(recalc_files, soffice=exe, strip_cached=True))
    exe = request.getfixturevalue("ssconvert")
    return Engine("Gnumeric", functools.partial(recalc_files_gnumeric, ssconvert=exe, strip_cached=True))
