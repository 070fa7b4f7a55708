#!/usr/bin/env bash
# The README's Python and Node sections, verbatim: the first command of each section's shell
# block installs the binding from the checkout, then the section's code blocks run (the CommonJS
# one as is; the ES module one, which calls a real URL, is import- and syntax-checked).
#   Python: from the checkout, into a fresh venv (maturin builds in place, so the build of the
#   Python suite is reused).
#   Node: on a fresh copy of the repository (the tracked files only: no compiled addon, no
#   node_modules), so the install script's own cargo build of the addon is what is tested.
set -euo pipefail
cd "$(dirname "$0")/.."
# The copy builds into the suite's own target directory: the binding crates are compiled again
# from the copy's sources, the dependencies already built by the earlier parts are reused.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
clone="$(mktemp -d)"
trap 'rm -rf "$clone"' EXIT
git ls-files -z | xargs -0 cp --parents -t "$clone" 2>/dev/null || true
git ls-files -z | (cd "$clone" && xargs -0 ls >/dev/null)   # every tracked file was copied

# block LANG SECTION N: the N-th (from 1) fenced LANG block of the README section whose heading
# is SECTION. (Selected here, not by `head` on a pipe: a reader that stops early must not break
# the writer's pipe.)
block() {
  python3 - "$1" "$2" "$3" <<'PY'
import re, sys
lang, section, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
text = open("README.md", encoding="utf-8").read()
part = text.split("## " + section + "\n", 1)[1].split("\n## ", 1)[0]
sys.stdout.write(re.findall(r"```" + re.escape(lang) + r"\n(.*?)```", part, re.S)[n - 1])
PY
}
first_command() {
  local sh
  sh="$(block sh "$1" 1)"
  echo "${sh%%$'\n'*}"
}

echo "-- Python: $(first_command 'In Python')"
python3 -m venv "$clone/.venv-readme"
PATH="$clone/.venv-readme/bin:$PATH" bash -euc "$(first_command 'In Python')" >/dev/null
block python 'In Python' 1 >"$clone/readme_example.py"
(cd "$clone" && .venv-readme/bin/python readme_example.py)

cd "$clone"
echo "-- Node: $(first_command 'In Node')"
bash -euc "$(first_command 'In Node') --no-audit --no-fund --loglevel=error"
block js 'In Node' 1 >charge.cjs
block js 'In Node' 2 >pay.mjs
grep -q "require('smartretry')" charge.cjs
node charge.cjs | tail -1 | grep -q '^receipt-17 after 3 calls$'
node --check pay.mjs
node --input-type=module -e "import { retry, Engine } from 'smartretry'; if (typeof retry !== 'function' || typeof Engine !== 'function') process.exit(1);"
echo "readme: Python and Node sections ran verbatim (Node on a fresh copy)"
