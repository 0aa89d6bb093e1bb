"""Packaging glue that setup.cfg cannot express: the data folders as packages.

The data stays in top-level source folders (``templates/``, ``examples/``, ``macros/``) and is
shipped inside the wheel under the packages that read it, as mapped by ``package_dir`` in
``setup.cfg`` (``xlsx_engine.templates = templates`` …). ``packages = find:`` cannot list a
package whose folder lies outside the package tree, so the mapped data packages (and their
sub-folders, so setuptools does not warn about importable folders shipped as data) are added
here. Everything else — metadata, dependencies, package_dir, package_data — is in setup.cfg.
"""

import configparser
import os

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def _data_packages():
    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(HERE, "setup.cfg"), encoding="utf-8")
    mapping = {}
    for line in cfg.get("options", "package_dir", fallback="").splitlines():
        if "=" in line:
            package, folder = (part.strip() for part in line.split("=", 1))
            mapping[package] = folder
    packages = []
    for package, folder in mapping.items():
        if not package:
            continue
        packages.append(package)
        root = os.path.join(HERE, folder)
        for dirpath, dirnames, _ in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d.isidentifier() and d != "__pycache__")
            rel = os.path.relpath(dirpath, root)
            if rel != ".":
                packages.append(package + "." + rel.replace(os.sep, "."))
    return packages


setup(packages=find_packages(where=HERE, include=["xlsx_engine", "xlsx_engine.*", "jxzp_addin", "jxzp_addin.*"])
      + _data_packages())
