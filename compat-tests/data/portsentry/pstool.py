#!/usr/bin/env python3
"""Test helper for the portsentry tests (runs inside the test's namespaces).

  pstool.py syslogd SOCKET OUT      receive syslog datagrams, one JSON string per line
  pstool.py run SCRIPT [READY]      run client actions, one per line (with READY: touch
                                    that file afterwards and keep running, for services):
      tcp SRC DST PORT              connect from SRC, print the banner received
      udp SRC DST PORT              send one datagram from SRC, print any reply
      craft SRC DST PORT FLAGS [opts]   one raw TCP segment (flags from S F R P A U, N = none;
                                    opts adds a 4-byte IPv4 option); IPv6 when SRC has ':'
      rawudp SRC DST PORT           one UDP datagram, without waiting for a reply
      listen tcp|udp PORT           a service on PORT (background, until the end)
      flood SRC DST COUNT           COUNT random TCP segments and COUNT random UDP datagrams
      sh COMMAND...                 a shell command
      sleep SECONDS
"""
import json, os, random, socket, struct, sys, threading, time


def syslogd(path, out):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(path)
    os.chmod(path, 0o666)
    with open(out, "a", buffering=1) as f:
        while True:
            d = s.recv(65536)
            f.write(json.dumps(d.decode("latin-1")) + "\n")


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return (~s) & 0xFFFF


FLAGS = {"F": 1, "S": 2, "R": 4, "P": 8, "A": 16, "U": 32}


def tcp_segment(sport, dport, flags, src, dst, v6, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, random.randint(0, 2**32 - 1), 0, 5 << 4, flags, 1024, 0, 0) + payload
    if v6:
        ph = socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) + struct.pack("!I3xB", len(tcp), 6)
    else:
        ph = struct.pack("!4s4sBBH", socket.inet_aton(src), socket.inet_aton(dst), 0, 6, len(tcp))
    return tcp[:16] + struct.pack("!H", csum(ph + tcp)) + tcp[18:]


def ipv4(src, dst, proto, l4, opts=b""):
    ihl = 5 + len(opts) // 4
    ip = struct.pack("!BBHHHBBH4s4s", (4 << 4) | ihl, 0, ihl * 4 + len(l4), random.randint(0, 65535), 0, 64, proto, 0,
                     socket.inet_aton(src), socket.inet_aton(dst)) + opts
    return ip[:10] + struct.pack("!H", csum(ip)) + ip[12:] + l4


def craft(src, dst, port, flags, opts=False):
    f = 0
    for c in flags:
        if c != "N":
            f |= FLAGS[c]
    sport = random.randint(20000, 60000)
    if ":" in src:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_TCP)
        s.bind((src, 0))
        s.sendto(tcp_segment(sport, port, f, src, dst, True), (dst, 0))
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        s.sendto(ipv4(src, dst, 6, tcp_segment(sport, port, f, src, dst, False), b"\x01\x01\x01\x01" if opts else b""), (dst, 0))
    s.close()


def rawudp(src, dst, port):
    fam = socket.AF_INET6 if ":" in src else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.sendto(b"X", (dst, port))
    s.close()


def tcp(src, dst, port):
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(2)
    try:
        s.connect((dst, port))
        d = b""
        try:
            while True:
                x = s.recv(4096)
                if not x:
                    break
                d += x
        except Exception:
            pass
        print("tcp", port, "connected banner=", repr(d), flush=True)
    except Exception as e:
        print("tcp", port, "error", type(e).__name__, flush=True)
    finally:
        s.close()


def udp(src, dst, port):
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.settimeout(1.0)
    s.sendto(b"X", (dst, port))
    try:
        print("udp", port, "reply=", repr(s.recv(4096)), flush=True)
    except Exception:
        print("udp", port, "noreply", flush=True)
    s.close()


def listen(proto, port):
    socks = []
    for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        try:
            s.bind((addr, port))
        except OSError:
            continue
        if proto == "tcp":
            s.listen(50)
        socks.append(s)

    def serve(s):
        while True:
            try:
                if proto == "tcp":
                    c, _ = s.accept()
                    c.close()
                else:
                    s.recv(10)
            except OSError:
                return
    for s in socks:
        threading.Thread(target=serve, args=(s,), daemon=True).start()
    return socks


def flood(src, dst, count):
    rnd = random.Random(6)
    v6 = ":" in src
    if v6:
        rs = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_TCP)
    else:
        rs = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    us = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
    us.bind((src, 0))
    sent = 0
    for i in range(count):
        flags = rnd.randint(0, 255)
        dport = rnd.randint(0, 65535)
        payload = os.urandom(rnd.randint(0, 40))
        seg = tcp_segment(rnd.randint(1, 65535), dport, flags, src, dst, v6, payload)
        if rnd.random() < 0.2:  # garbage: truncated header or random bytes
            seg = os.urandom(rnd.randint(0, 30))
        try:
            if v6:
                rs.sendto(seg, (dst, 0))
            else:
                rs.sendto(ipv4(src, dst, 6, seg), (dst, 0))
            us.sendto(os.urandom(rnd.randint(0, 200)), (dst, rnd.randint(1, 65535)))
            sent += 1
        except OSError:
            time.sleep(0.001)
    print("flood sent", sent, flush=True)


def run(script, ready=None):
    keep = []
    for line in open(script):
        a = line.split()
        if not a or a[0].startswith("#"):
            continue
        op = a[0]
        if op == "tcp":
            tcp(a[1], a[2], int(a[3]))
        elif op == "udp":
            udp(a[1], a[2], int(a[3]))
        elif op == "craft":
            craft(a[1], a[2], int(a[3]), a[4], len(a) > 5)
        elif op == "rawudp":
            rawudp(a[1], a[2], int(a[3]))
        elif op == "listen":
            keep.append(listen(a[1], int(a[2])))
        elif op == "flood":
            flood(a[1], a[2], int(a[3]))
        elif op == "sh":
            import subprocess
            subprocess.run(line.split(None, 1)[1], shell=True)
        elif op == "sleep":
            time.sleep(float(a[1]))
        else:
            raise SystemExit("unknown action " + op)
    if ready:  # background services: report readiness, then keep them up
        open(ready, "w").close()
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    if sys.argv[1] == "syslogd":
        syslogd(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    elif sys.argv[1] == "listen":
        listen(sys.argv[2], int(sys.argv[3]))
        time.sleep(3600)
    else:
        raise SystemExit(__doc__)
