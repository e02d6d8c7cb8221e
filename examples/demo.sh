#!/usr/bin/env bash
# The front door: install gitorch into .venv, then run `git orch demo` (arguments pass through:
# --agents N, --keep DIR). A fleet of stand-in agents in a private tmux server lands its work.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/.ci/setup"
export PATH="$here/.venv/bin:$PATH"
exec git orch demo "$@"
