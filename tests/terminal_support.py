"""Running costcalc in a child with stderr a terminal (a pseudo-terminal) or a pipe, to see
what a progress bar draws (tests/test_sweep.py, tests/test_check_command.py)."""
import os
import pathlib
import pty
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def run_code(code, stderr, **env):
    """``python -c code`` from the repository root, COLUMNS=80, NO_COLOR and FORCE_COLOR
    unset (and ``env`` added): the completed process, stdout captured."""
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environ.update(COLUMNS="80", PYTHONPATH=str(ROOT), **env)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environ,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr,
                          timeout=120)


def on_a_terminal(code, **env):
    """Run ``code`` with stderr a pty: (the completed process, what reached the pty)."""
    master, slave = pty.openpty()
    try:
        done = run_code(code, slave, **env)
    finally:
        os.close(slave)
    drawn = b""
    try:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:   # nothing more: the child's end is closed
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(master)
    return done, drawn


def piped(code, **env):
    """Run ``code`` with stderr a pipe: the completed process."""
    return run_code(code, subprocess.PIPE, **env)
