#!/usr/bin/python3
"""Writes the seed corpora of the decoder's harnesses (fuzz/decoder.cmake)
from the captured events of tests/data/binlog/ and the hand-encoded MySQL
JSON documents of tests/unit/test_mysqljson.c, plus the reproducers of
issue 8. Run from anywhere; it rewrites fuzz/corpus/{rowdec,stream,
mysqljson}/seed-* and issue8-* (other files, minimised finds, stay).

    /usr/bin/python3 fuzz/decoder-corpus.py
"""
import glob
import os
import re
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
DATA = os.path.join(SRC, "tests", "data", "binlog")
ZONES = ["America/New_York", "UTC", "+14:00", "-12:00", "Europe/Paris",
         "Asia/Kolkata", "Etc/GMT+12", "Australia/Lord_Howe", "+08:00"]
TYPES = [23, 24, 25, 30, 31, 32]


def out(harness, name, data):
    d = os.path.join(HERE, "corpus", harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def clean(harness):
    for f in glob.glob(os.path.join(HERE, "corpus", harness, "seed-*")) + \
            glob.glob(os.path.join(HERE, "corpus", harness, "issue8-*")):
        os.unlink(f)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def case_events(case):
    """(is_map, whole event) in order, and whether events end with a CRC."""
    d = os.path.join(DATA, case)
    crc = read(os.path.join(d, "crc")).startswith(b"1")
    evs = []
    for i in range(32):
        for kind in ("table_map", "rows"):
            p = os.path.join(d, "%02d-%s.bin" % (i, kind))
            if os.path.exists(p):
                evs.append((kind == "table_map", read(p)))
    return evs, crc


def body(ev, crc):
    return ev[19:len(ev) - (4 if crc else 0)]


def rowdec_input(zone, rtype, tm, rows, flags=0, phl=0):
    assert len(tm) < 256
    return bytes([zone, TYPES.index(rtype), phl, len(tm), flags]) + tm + rows


def stream_input(opt, events):
    return bytes([opt]) + b"".join(struct.pack("<H", len(e)) + e
                                   for e in events)


def crc_fix(ev):
    ev = bytearray(ev)
    ev[-4:] = struct.pack("<I", zlib.crc32(bytes(ev[:-4])) & 0xffffffff)
    return bytes(ev)


def rowdec_corpus():
    clean("rowdec")
    for case in ("ints", "ints_minimal", "numeric", "strings", "temporal",
                 "follow"):
        evs, crc = case_events(case)
        tzp = os.path.join(DATA, case, "tz")
        zone = ZONES.index(read(tzp).decode().strip()) \
            if os.path.exists(tzp) else 1
        tm = None
        for k, (is_map, ev) in enumerate(evs):
            if is_map:
                tm = body(ev, crc)
                continue
            out("rowdec", "seed-%s-%02d" % (case, k),
                rowdec_input(zone, ev[4], tm, body(ev, crc)))
        if case == "ints_minimal":  # completed as information_schema would
            out("rowdec", "seed-%s-complete" % case,
                rowdec_input(zone, evs[1][1][4], body(evs[0][1], crc),
                             body(evs[1][1], crc), flags=1))
    # issue 8: #2 DATETIME past 9999 in New York, #6 rows post-header 7
    out("rowdec", "issue8-2-datetime-ny", bytes.fromhex(
        "00020020002a0000000000010009666f6c6c6f7763646300017400011201000104"
        "030264742a00000000000100010100fef3ff7000"))
    out("rowdec", "issue8-6-rows-phl7", bytes.fromhex(
        "0000871f002a0000000000010009666f6c6c6f776364630006666f6c6c6f770001"
        "0800002a000000000001"))
    # #3 ENUM labels twice, #5 no column present
    out("rowdec", "issue8-3-enum-twice", rowdec_input(
        1, 23, bytes.fromhex("2a0000000000010009666f6c6c6f7763646300017400"
                             "01fe02f701000402016506050201610162060100"),
        bytes.fromhex("2a0000000000010001010002")))
    out("rowdec", "issue8-5-empty-bitmap", rowdec_input(
        1, 23, bytes.fromhex("2a0000000000010009666f6c6c6f7763646300066"
                             "66f6c6c6f7700010800000403026964"),
        bytes.fromhex("2a00000000000100010000")))


def stream_corpus():
    clean("stream")
    d = os.path.join(DATA, "stream")
    evs = [read(p) for p in sorted(glob.glob(os.path.join(d, "*-ev.bin")))]
    out("stream", "seed-stream", stream_input(0, evs))
    out("stream", "seed-stream-filepos", stream_input(4, evs))
    # the first transactions only, and each one on its own after the FDE
    out("stream", "seed-stream-head", stream_input(0, evs[:12]))
    for case in ("ints", "numeric", "strings", "temporal", "follow"):
        cevs, _ = case_events(case)
        out("stream", "seed-%s" % case,
            stream_input(4, evs[:2] + [e for _, e in cevs]))
    # issue 8 #6: an FDE giving rows events a post-header length of 7
    fde = bytearray(evs[1])
    fde[19 + 57 + 22] = 7
    out("stream", "issue8-6-fde-phl7",
        stream_input(0, [evs[0], crc_fix(bytes(fde))] + evs[2:]))


def mysqljson_corpus():
    clean("mysqljson")
    test = read(os.path.join(SRC, "tests", "unit", "test_mysqljson.c"))
    for m in re.finditer(rb"static const uint8_t (mj\d+)\[\] = \{([^}]*)\}",
                         test):
        data = bytes(int(x, 16) for x in re.findall(rb"0x([0-9a-f]{2})",
                                                    m.group(2)))
        out("mysqljson", "seed-%s" % m.group(1).decode(), b"\x01" + data)
    # issue 8 #4: arrays whose two entries share one sub-array, 20 deep
    doc = bytearray(b"\x02")
    for i in range(20):
        size = (20 - i) * 10 + 4
        doc += struct.pack("<HH", 2, size) + b"\x02\x0a\x00\x02\x0a\x00"
    doc += b"\x00\x00\x04\x00"
    out("mysqljson", "issue8-4-shared", b"\x01" + bytes(doc))
    # issue 8 #6: a packed DATE of INT64_MIN
    out("mysqljson", "issue8-6-int64-min",
        bytes.fromhex("010f0a080000000000000080"))


if __name__ == "__main__":
    rowdec_corpus()
    stream_corpus()
    mysqljson_corpus()
    for h in ("rowdec", "stream", "mysqljson"):
        n = len(os.listdir(os.path.join(HERE, "corpus", h)))
        print("%s: %d files" % (h, n))
    sys.exit(0)
