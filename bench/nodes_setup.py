"""nodes_setup: on a server running a demo database, a conversation between
client@demo.opx and an engineer (the steps of talk_pair in
tests/api/opxtest.py); prints the client's token and the conversation's id
on one line, for bench/nodes.sh's message writes.

Usage: nodes_setup.py BASE_URL"""
import os
import sys

import httpx

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "api"))
from opxtest import demo_login, talk_pair  # noqa: E402


def main():
    with httpx.Client(base_url=sys.argv[1], timeout=30) as c:
        admin, client = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
        p = talk_pair(c, admin, client)
        print(client["token"], p["conversation"]["id"])


if __name__ == "__main__":
    main()
