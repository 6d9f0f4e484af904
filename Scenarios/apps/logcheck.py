#!/usr/bin/python3
"""Exit 0 when a tkapp log (JSON lines) holds an event matching every given pattern.

Usage: logcheck.py LOG PATTERN [PATTERN...]
Each PATTERN is a JSON object; an event matches it when every key of the pattern is in the event
with an equal value (nested objects are matched the same way, recursively). With several
patterns, each must be matched, by events in that order. On failure, the last events are printed.
"""

import json
import sys


def matches(event, pattern):
    if isinstance(pattern, dict):
        return isinstance(event, dict) and all(k in event and matches(event[k], v) for k, v in pattern.items())
    return event == pattern


def main():
    if len(sys.argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        with open(sys.argv[1], encoding="utf-8") as f:
            events = [json.loads(line) for line in f if line.strip()]
    except OSError as e:
        print("logcheck: cannot read %s: %s" % (sys.argv[1], e))
        return 1
    patterns = [json.loads(p) for p in sys.argv[2:]]
    at = 0
    for pattern in patterns:
        while at < len(events) and not matches(events[at], pattern):
            at += 1
        if at == len(events):
            print("logcheck: no event matches %s; last events:" % json.dumps(pattern, ensure_ascii=False))
            for e in events[-4:]:
                print("  " + json.dumps(e, ensure_ascii=False))
            return 1
        at += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
