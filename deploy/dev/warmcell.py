"""Time from POST /sessions to the first statement's result through
livygate, cold (the stack's gateway, warm sessions off) vs warm (a second
gateway with warm: on, the user's notebook server running and their warm
session idle), in the same run, rounds alternating. Needs the dev stack
(deploy/dev/stack.sh start).

    .cache/dev/py/bin/python deploy/dev/warmcell.py [ROUNDS]

Prints one line per round and a median/spread table. Exits 1 if any round
fails.
"""

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from firstcell import first_cell, spread  # noqa: E402
from warmgw import load_env, set_server, wait_no_sessions, warm_gateway, warm_session  # noqa: E402

USER = "alice"
BODY = {"kind": "pyspark", "heartbeatTimeoutInSecond": 60}


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    env = load_env()
    auth = (USER, env[f"STACK_{USER.upper()}_PASSWORD"])
    times = {"cold": [], "warm": []}
    wait_no_sessions(env, USER)
    with warm_gateway(env) as warm_url:
        try:
            for i in range(rounds):
                # warm: the server runs, its warm session is idle, then the create.
                set_server(env, USER, True)
                warm_session(env, USER)
                t = first_cell(warm_url, auth, BODY)
                times["warm"].append(t)
                print(f"  round {i + 1}: warm {t:6.1f} s", flush=True)
                # No warm session starts while the cold round runs.
                set_server(env, USER, False)
                wait_no_sessions(env, USER)
                t = first_cell(env["STACK_GATEWAY_URL"], auth, BODY)
                times["cold"].append(t)
                print(f"  round {i + 1}: cold {t:6.1f} s", flush=True)
                wait_no_sessions(env, USER)
        finally:
            set_server(env, USER, False)
    for name in ("cold", "warm"):
        print(f"  {name}: {spread(times[name])}")
    print(f"  warm / cold: {statistics.median(times['warm']) / statistics.median(times['cold']):.2f}x")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # one line, non-zero exit
        sys.exit(f"warmcell: {e}")
