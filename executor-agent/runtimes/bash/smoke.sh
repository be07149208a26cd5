# Smoke test for the bash runtime image, run with the sandbox's flags. It must print exactly OK.
set -euo pipefail
[[ $(id -u) == 65534 ]] || { echo "uid $(id -u)"; exit 1; }
[[ $(printf 'b\na\n' | sort | tr -d '\n') == ab ]]
[[ $(echo "x=42" | sed 's/x=//' | awk '{print $1 * 2}') == 84 ]]
echo é >/tmp/smoke && grep -q é /tmp/smoke
echo OK
