#!/usr/bin/env bash
# The explorer in a real browser. Starts a dev node with the hyphae binary at $HYPHAE_BIN,
# registers a known number of neurons on subnet 1 (one of them a staked validator that sets
# weights, so emission and incentive move), serves `hyphae explorer`, and drives headless
# Debian chromium through chromedriver (Python selenium) to check that the page loads, the
# metagraph shows one row per registered neuron, a chart renders, and a neuron page shows its
# explain receipt. Screenshots go to $CARGO_TARGET_DIR/explorer-screenshots/ (or target/).
#
# Usage: HYPHAE_BIN=target/debug/hyphae bash tests/explorer-browser/run.sh
# Needs: python3 (with venv), and root or chromium + chromium-driver already installed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${HYPHAE_BIN:?set HYPHAE_BIN to the hyphae binary}"
[[ -x "$bin" ]] || { echo "HYPHAE_BIN=$bin is not executable" >&2; exit 2; }
target_dir="${CARGO_TARGET_DIR:-$root/target}"
shots="$target_dir/explorer-screenshots"
cache="${HYPHAE_CI_CACHE:-$HOME/.cache/hyphae-ci}"
venv="$cache/venv-browser"
started=$SECONDS

say() { echo "[explorer-browser $((SECONDS - started))s] $*" >&2; }

# 1. Debian's chromium and its matching chromedriver.
if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
    say "installing chromium and chromium-driver"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends chromium chromium-driver >/dev/null ||
        { apt-get update -qq && apt-get install -y --no-install-recommends chromium chromium-driver >/dev/null; }
fi

# 2. Python selenium in a cached venv (drives the browser through /usr/bin/chromedriver).
if ! "$venv/bin/python" -c 'import selenium' 2>/dev/null; then
    say "creating $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'selenium>=4.20,<5'
fi

work="$(mktemp -d)"
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits (at most 60 s) for the JSON ready line of a background command and prints one field.
ready_field() {
    local file="$1" field="$2" pid="$3" deadline=$((SECONDS + 60))
    while ((SECONDS < deadline)); do
        if [[ -s "$file" ]]; then
            python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).readline()); assert d["event"]=="ready", d; print(d[sys.argv[2]])' "$file" "$field" && return 0
        fi
        kill -0 "$pid" 2>/dev/null || { echo "process $pid exited before it was ready:" >&2; cat "$work"/*.err >&2; return 1; }
        sleep 0.1
    done
    echo "no ready line in $file within 60 s" >&2
    return 1
}

# 3. A dev node on ephemeral ports.
"$bin" node --dev --base-path "$work/chain" --rpc-port 0 --metrics-port 0 \
    --block-time-ms 200 --output json >"$work/node.out" 2>"$work/node.err" &
pids+=($!)
rpc="$(ready_field "$work/node.out" rpc "${pids[0]}")"
say "node ready at $rpc"

# 4. The explorer, started early so it records every epoch from here on.
"$bin" explorer --rpc-url "$rpc" --port 0 --output json >"$work/explorer.out" 2>"$work/explorer.err" &
pids+=($!)
explorer="$(ready_field "$work/explorer.out" explorer "${pids[1]}")"
say "explorer ready at $explorer"

cli() { "$bin" "$@" --rpc-url "$rpc" --output json; }
tx() { cli "$@" --yes --wait finalized >/dev/null; }
epoch_index() {
    curl -sf -H 'content-type: application/json' \
        -d '{"jsonrpc":"2.0","id":1,"method":"subnet_epochTiming","params":[1]}' "$rpc" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["epoch_index"])'
}

# 5. Neurons on subnet 1 (empty at genesis): one validator and three miners, all //Alice's.
hotkeys=(//Alice//explorer-v //Alice//explorer-m1 //Alice//explorer-m2 //Alice//explorer-m3)
registered=()
for hotkey in "${hotkeys[@]}"; do
    registered+=("$(cli subnet register --uri //Alice --hotkey-uri "$hotkey" --netuid 1 \
        --max-price 10 --yes --wait finalized |
        python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["status"]=="finalized", d; print(d["hotkey"])')")
done
say "registered ${#hotkeys[@]} neurons"
# The validator signs its own weights (fees) and needs stake for a permit.
tx transfer --uri //Alice --dest "${registered[0]}" --amount 1
tx stake add --uri //Alice --hotkey-uri //Alice//explorer-v --netuid 1 --amount 100 --max-slippage 100000
# Permits are handed out at the next epoch.
target=$(($(epoch_index) + 1))
deadline=$((SECONDS + 60))
until (($(epoch_index) >= target)); do
    ((SECONDS < deadline)) || { echo "no epoch within 60 s" >&2; exit 1; }
    sleep 0.2
done
tx weights set --uri //Alice//explorer-v --netuid 1 --uids 1,2,3 --weights 1,2,3
say "validator staked and set weights"

# 6. The browser.
mkdir -p "$shots"
"$venv/bin/python" "$here/drive.py" --url "$explorer" --netuid 1 \
    --neurons "${#hotkeys[@]}" --screenshots "$shots"
say "passed; screenshots in $shots"
