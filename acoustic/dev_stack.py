"""`make run`: a command (honcho with Procfile.dev) with the embedded Redis, which stops when the command ends.

Without REDIS_URL, the embedded Redis is started first and its URL handed to the command, so every process of the
stack uses it and none starts another. Ctrl-C reaches the command too (it stops its processes); this waits for it,
then stops the Redis it started. Usage: python -m acoustic.dev_stack [--run-dir DIR] -- COMMAND...
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

from acoustic import embedded_redis

RUN_DIR = Path(__file__).resolve().parent.parent / "var"


def run(command: list[str], run_dir: Path = RUN_DIR) -> int:
    """The command's exit status; the embedded Redis is stopped afterwards if this call started it."""
    env = dict(os.environ)
    started = False
    if not env.get("REDIS_URL"):
        started = not embedded_redis.answers(embedded_redis.socket_path(run_dir))
        env["REDIS_URL"] = f"unix://{embedded_redis.ensure_running(run_dir)}"
    try:
        return _wait(subprocess.Popen(command, env=env))
    finally:
        if started:
            embedded_redis.stop(run_dir)


def _wait(process: subprocess.Popen) -> int:
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:
            continue  # the command got the same Ctrl-C and is stopping its processes: let it finish


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, default=RUN_DIR)
    parser.add_argument("command", nargs="+")
    arguments = parser.parse_args()
    sys.exit(run(arguments.command, arguments.run_dir))
