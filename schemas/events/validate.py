#!/usr/bin/python3
"""Validate followcdc change events against cdc_event.schema.json.

Usage: validate.py [--expect-invalid] FILE...   (one JSON document per file)
       validate.py --lines < events.jsonl          (one event per line; empty
                                                   lines = tombstones, skipped)
Exit 0 when every input matched the expectation, 1 otherwise.
"""
import json
import os
import sys

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))


def no_dups(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)


def check(text, validator):
    try:
        doc = json.loads(text, object_pairs_hook=no_dups)
    except ValueError as e:
        return "not JSON: %s" % e
    errs = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    if errs:
        e = errs[0]
        return "$.%s: %s" % (".".join(str(p) for p in e.path), e.message)
    return None


def main(argv):
    with open(os.path.join(HERE, "cdc_event.schema.json")) as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)
    expect_invalid = "--expect-invalid" in argv
    args = [a for a in argv if not a.startswith("--")]
    bad = 0
    n = 0
    if "--lines" in argv:
        for i, line in enumerate(sys.stdin, 1):
            line = line.strip()
            if not line:
                continue
            n += 1
            why = check(line, validator)
            if why:
                bad += 1
                print("line %d: %s" % (i, why))
        print("validated %d events, %d invalid" % (n, bad))
        return 1 if bad else 0
    for path in args:
        with open(path, encoding="utf-8") as f:
            why = check(f.read(), validator)
        n += 1
        if expect_invalid and not why:
            bad += 1
            print("%s: expected invalid, but it validates" % path)
        elif not expect_invalid and why:
            bad += 1
            print("%s: %s" % (path, why))
    print("checked %d files, %d unexpected" % (n, bad))
    return 1 if bad or not n else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
