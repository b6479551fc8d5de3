"""OS packages a test needs (LibreOffice, Chromium, poppler): installed with apt-get when missing.

A test that needs one calls `require(command, *packages)` in its set-up. When the command is not on
the PATH it installs the Debian packages (as root, `apt-get install -y -q`, after one
`apt-get update`), and fails, never skips, with what to install when it cannot.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

_updated = False


def require(command: str, *packages: str) -> str:
    global _updated
    found = shutil.which(command)
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt is None:
        pytest.fail(f"`{command}` is missing and there is no apt-get here: install {' '.join(packages)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    lock = ["-o", "DPkg::Lock::Timeout=600"]
    if not _updated:
        subprocess.run([apt, "update", "-q", *lock], env=env, capture_output=True, check=False, timeout=900)
        _updated = True
    done = subprocess.run([apt, "install", "-y", "-q", "--no-install-recommends", *lock, *packages], env=env,
                          capture_output=True, text=True, check=False, timeout=1800)
    found = shutil.which(command)
    if not found:
        pytest.fail(f"`{command}` is missing and `apt-get install {' '.join(packages)}` did not bring it "
                    f"(exit {done.returncode}): {done.stderr[-800:]}")
    return found


def require_cjk_font() -> None:
    """A font with Chinese glyphs (else a renderer measures and draws boxes)."""
    listed = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False) \
        if shutil.which("fc-list") else None
    if listed is not None and listed.stdout.strip():
        return
    require("fc-list", "fontconfig")
    subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=600",
                    "fonts-wqy-zenhei"], env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
                   capture_output=True, check=False, timeout=900)
    listed = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False)
    if not listed.stdout.strip():
        pytest.fail("no font with Chinese glyphs: apt-get install fonts-wqy-zenhei")
