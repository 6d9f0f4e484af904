"""Helpers every training script shares. Standard library only: it runs before the venv is
entered, and under Debian's /usr/bin/python3 in the Tk generator.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TORCH_PACKAGES = ["torch", "transformers", "tokenizers", "safetensors", "pillow", "numpy"]


def enter_venv(script, packages):
    """Re-executes `script` with the project venv's Python (scripts/pyenv, which installs the
    missing `packages`), unless this process already is that run. Call before third-party imports."""
    if os.environ.get("GUI_AGENT_PYENV") == "1":
        return
    py = subprocess.check_output([os.path.join(ROOT, "scripts", "pyenv")] + packages, text=True).strip()
    os.environ["GUI_AGENT_PYENV"] = "1"  # also keeps imported fixture scripts from re-executing
    os.execv(py, [py, os.path.abspath(script)] + sys.argv[1:])


def gui_agent():
    """The gui-agent binary: $GUI_AGENT, else this checkout's release build, else /work/main's."""
    for path in [os.environ.get("GUI_AGENT"), os.path.join(ROOT, ".build/release/gui-agent"),
                 "/work/main/.build/release/gui-agent"]:
        if path and os.access(path, os.X_OK):
            return path
    sys.exit("training: build gui-agent first (swift build -c release --product gui-agent) or set GUI_AGENT")
