#!/usr/bin/env bash
# gitorch in two minutes: install it into .venv, then plan work in a scratch
# repository the way an agent would, and read the state back with plain git.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/.ci/setup"
export PATH="$here/.venv/bin:$PATH"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$scratch"
git init -q -b main demo && cd demo
git -c user.name=demo -c user.email=demo@example.com commit -q --allow-empty -m "initial"

say() { printf '\n$ %s\n' "$*"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

say git orch task.create --level epic --title "Ship the login page"
epic=$(git orch task.create --level epic --title "Ship the login page" | field "['task']['id']")
echo "$epic"
feature=$(git orch task.create --level feature --title "Password form" --parent-id "$epic" --priority 2 | field "['task']['id']")
for title in "renders the form" "rejects an empty password" "yes"; do
  git orch task.create --level case --title "$title" --parent-id "${feature:4:4}" >/dev/null
done
case_id=$(git orch task.list --level case --limit 1 | field "['tasks'][0]['id']")
git orch task.update --task-id "$case_id" --status in_progress >/dev/null

say git orch task.list --format table
git orch task.list --format table

say git orch task.get --task-id "${case_id:4:4}" --pretty
git orch task.get --task-id "${case_id:4:4}" --pretty

say git orch task.update --task-id "$epic" --status done
git orch task.update --task-id "$epic" --status done || echo "(exit $?: todo -> done skips in_progress)"
say git orch task.create --level step --title x --parent-id "$epic"
git orch task.create --level step --title x --parent-id "$epic" || echo "(exit $?: a step belongs to a case)"

say git orch status
git orch status

say git log --oneline orchestrator/state
git log --oneline orchestrator/state
say git show "orchestrator/state:tasks/${case_id:4:2}/$case_id.yaml"
git show "orchestrator/state:tasks/${case_id:4:2}/$case_id.yaml"
