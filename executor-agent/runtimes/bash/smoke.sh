# Smoke test for the bash runtime image, run with the sandbox's flags. It must print exactly OK.
set -euo pipefail
# Any unprivileged uid: each sandbox runs as its own pooled uid (65534 when the image is built).
[[ $(id -u) != 0 && $(id -g) != 0 ]] || { echo "uid $(id -u)"; exit 1; }
[[ $(printf 'b\na\n' | sort | tr -d '\n') == ab ]]
[[ $(echo "x=42" | sed 's/x=//' | awk '{print $1 * 2}') == 84 ]]
echo é >/tmp/smoke && grep -q é /tmp/smoke
echo OK
