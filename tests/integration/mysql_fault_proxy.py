#!/usr/bin/python3
"""mysql_fault_proxy.py: a TCP proxy in front of MariaDB that can answer a
running binlog dump with a server error, for tests.

    mysql_fault_proxy.py --listen PORT --to HOST:PORT --control FILE

Every connection is forwarded as it is. The server's packets are forwarded
whole (MySQL framing: 3-byte length, 1-byte sequence). Once FILE exists,
every connection that has sent a binlog dump command (COM_BINLOG_DUMP 0x12
or COM_BINLOG_DUMP_GTID 0x1e) gets, at the next packet boundary, an ERR
packet with the number and text written in FILE ("1236 message"), then
both sides are closed; FILE is renamed to FILE.done. This is what a server
sends when the position a replica streams from stops existing mid-stream
(error 1236), which a real server rarely does on demand.

Prints "listening PORT" once ready. Stops on SIGTERM.
"""
import argparse
import os
import select
import signal
import socket
import struct
import sys
import threading

DUMP_COMMANDS = (0x12, 0x1E)


def err_packet(seq, errno, text):
    payload = b"\xff" + struct.pack("<H", errno) + b"#HY000" + text.encode()
    return struct.pack("<I", len(payload))[:3] + bytes([seq & 0xFF]) + payload


class Pair:
    def __init__(self, client, server, control):
        self.client, self.server, self.control = client, server, control
        self.dump = False
        self.closed = False

    def close(self):
        self.closed = True
        for s in (self.client, self.server):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def client_to_server(self):
        buf = b""
        try:
            while not self.closed:
                data = self.client.recv(65536)
                if not data:
                    break
                buf += data
                while len(buf) >= 4:
                    n = int.from_bytes(buf[:3], "little")
                    if len(buf) < 4 + n:
                        break
                    seq, first = buf[3], buf[4] if n else None
                    if seq == 0 and first in DUMP_COMMANDS:
                        self.dump = True
                    buf = buf[4 + n:]
                self.server.sendall(data)
        except OSError:
            pass
        self.close()

    def inject(self, last_seq):
        try:
            with open(self.control) as f:
                words = f.read().split(None, 1)
            os.rename(self.control, self.control + ".done")
        except OSError:
            return False  # another connection got it
        errno = int(words[0]) if words else 1236
        text = words[1].strip() if len(words) > 1 else "injected"
        try:
            self.client.sendall(err_packet(last_seq + 1, errno, text))
        except OSError:
            pass
        self.close()
        return True

    def server_to_client(self):
        buf, last_seq = b"", 0
        try:
            while not self.closed:
                if self.dump and os.path.exists(self.control) and \
                        self.inject(last_seq):
                    return
                r, _, _ = select.select([self.server], [], [], 0.1)
                if not r:
                    continue
                data = self.server.recv(65536)
                if not data:
                    break
                buf += data
                out = b""
                while len(buf) >= 4:
                    n = int.from_bytes(buf[:3], "little")
                    if len(buf) < 4 + n:
                        break
                    last_seq = buf[3]
                    out += buf[:4 + n]
                    buf = buf[4 + n:]
                if out:
                    self.client.sendall(out)
        except OSError:
            pass
        self.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--to", required=True)
    ap.add_argument("--control", required=True)
    a = ap.parse_args()
    host, port = a.to.rsplit(":", 1)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", a.listen))
    ls.listen(64)
    print("listening %d" % a.listen, flush=True)
    while True:
        c, _ = ls.accept()
        try:
            s = socket.create_connection((host, int(port)))
        except OSError:
            c.close()
            continue
        p = Pair(c, s, a.control)
        threading.Thread(target=p.client_to_server, daemon=True).start()
        threading.Thread(target=p.server_to_client, daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
