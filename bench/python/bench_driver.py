"""Driver of the Python MQTT benchmark (bench/run_python.sh starts the broker and calls it).

Every client runs in a process of its own (pub_client.py, recv_client.py, flood_pub.py, and the
C programs bench/mqtt_count.c, raw_mosquitto_pub.c, iotkit_pub.c), one at a time, the clients
taking turns within each round; the broker is the same private mosquitto on 127.0.0.1 for the
whole run. Nothing asserts on time: it prints the medians over the rounds, the ratios and
whether the goals of issue 13 are met.

  python3 bench_driver.py --port P --cbin DIR [--count0 N] [--count1 N] [--recv-count N]
                          [--size B] [--rounds R] [--workdir DIR] [--only K1,K2] [--skip-recv]
                          [--fleet-only] [--fleet-devices N]
"""
import argparse
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable
HOST = "127.0.0.1"  # never anything else

# kind: (label, QoS levels)
PUB_KINDS = {
    "iotkit-bg": ("iotkit.Device, background loop", (0, 1)),
    "iotkit-poll": ("iotkit.Device, poll() by the sender", (0, 1)),
    "iotkit-window": ("iotkit.Device, bg loop, inflight=100", (1,)),
    "iotkit-count": ("iotkit.Device, bg, stats.confirmed", (1,)),
    "iotkit-durable": ("iotkit.Device, bg loop, durable queue", (0, 1)),
    "iotkit-aio": ("iotkit.aio.Device, gather chunks", (0, 1)),
    "paho": ("paho-mqtt, defaults (20 in flight)", (0, 1)),
    "paho-unlimited": ("paho-mqtt, no in-flight limit", (1,)),
    "awscrt": ("awscrt.mqtt.Connection (3.1.1)", (0, 1)),
    "c-raw": ("[C] raw libmosquitto (reference)", (0, 1)),
    "c-iotkit": ("[C] libiotkit device (reference)", (0, 1)),
}
C_PUB = {"c-raw": ("bench_raw_mosquitto_pub", "bench/raw/telemetry"),
         "c-iotkit": ("bench_iotkit_pub", "iotkit/v1/bench-iotkit/telemetry")}
# The headline iotkit figure: iotkit.Device with its background loop and on_delivery, durable
# queue off (see bench/README.md). The other iotkit rows get their own ratios; none is picked
# per run.
HEADLINE = "iotkit-bg"
PAHO = ("paho", "paho-unlimited")  # ratios are taken against the faster of the two at each QoS
RECV_KINDS = {
    "iotkit-bg": "iotkit.Device on_message, bg loop",
    "iotkit-poll": "iotkit.Device on_message, poll()",
    "paho": "paho-mqtt on_message, loop_start",
    "c": "[C] libmosquitto mqtt_count.c (ref.)",
}
FLEET_KINDS = {
    "fleet-bg": "iotkit.Fleet on_telemetry, bg loop",
    "fleet-aio": "iotkit.aio.Fleet async for events()",
    "paho-fleet": "paho-mqtt on_message, loop_start",
}


class Proc:
    """A child process whose stdout lines are read by a thread into a queue."""

    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.lines = queue.Queue()
        self.cpu = None  # user+system CPU seconds of the whole process, once reaped
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            self.lines.put((time.monotonic(), line.strip()))
        self.lines.put((time.monotonic(), None))

    def expect(self, pattern, timeout):
        """(arrival time, match) of the next line matching @p pattern; raise on EOF or timeout."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise RuntimeError("timed out after %.0f s waiting for %r" % (timeout, pattern))
            try:
                t, line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError("exited before printing %r" % pattern)
            m = re.search(pattern, line)
            if m:
                return t, m

    def send(self, text="go\n"):
        try:
            self.p.stdin.write(text)
            self.p.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    def finish(self, timeout=15):
        """Close stdin and reap the process (killed after @p timeout s), keeping its CPU time."""
        try:
            self.p.stdin.close()
        except OSError:
            pass
        end = time.monotonic() + timeout
        while True:
            pid, status, ru = os.wait4(self.p.pid, os.WNOHANG)
            if pid:
                self.p.returncode = os.waitstatus_to_exitcode(status)
                self.cpu = ru.ru_utime + ru.ru_stime
                return
            if time.monotonic() > end:
                self.p.kill()
            time.sleep(0.005)


def run_pub(args, kind, qos, count, n):
    """(messages/s, CPU µs per message) of one publish run: from the first publish to the last
    PUBACK (QoS 1) or to the last arrival at the counting subscriber (QoS 0)."""
    if kind in C_PUB:
        return run_c_pub(args, kind, qos, count, n)
    state = os.path.join(args.workdir, "state-%d" % n)
    argv = [PY, os.path.join(HERE, "pub_client.py"), kind, str(qos), str(count), str(args.size), HOST,
            str(args.port), state]
    client = Proc(argv)
    counter = None
    try:
        _, m = client.expect(r"^ready topic=(\S+)", 30)
        topic = m.group(1)
        if qos == 0:
            counter = Proc([args.counter, HOST, str(args.port), topic, str(count)])
            counter.expect(r"^ready", 10)
        client.send()
        if qos == 0:
            t_end, _ = counter.expect(r"^mqtt count=", args.timeout)
            _, m = client.expect(r"^t0=([\d.]+) t1=([\d.]+) cpu=([\d.]+)", 10)
            secs = t_end - float(m.group(1))
            client.send("done\n")
            _, c = client.expect(r"^cpu_end=([\d.]+)", 10)
            cpu = float(c.group(1))
        else:
            _, m = client.expect(r"^t0=([\d.]+) t1=([\d.]+) cpu=([\d.]+)", args.timeout)
            secs = float(m.group(2)) - float(m.group(1))
            cpu = float(m.group(3))
        return count / secs, cpu / count * 1e6
    finally:
        client.send("done\n")
        client.finish()
        if counter is not None:
            counter.finish(timeout=1)
        shutil.rmtree(state, ignore_errors=True)


def run_c_pub(args, kind, qos, count, n):
    """The C programs of bench/run_mqtt_publish.sh, as references. QoS 1: their own figure
    (first publish to the last PUBACK). QoS 0: from just before the process is started (so
    exec and connect are counted against them: a few ms) to the counter's last arrival. CPU:
    the whole process (start-up included), from wait4."""
    binary, topic = C_PUB[kind]
    binary = os.path.join(args.cbin, binary)
    if kind == "c-raw":
        argv = [binary, HOST, str(args.port), str(qos), str(count), str(args.size)]
    else:
        argv = [binary, "mqtt://%s:%d" % (HOST, args.port), str(qos), str(count), str(args.size)]
    counter = None
    proc = None
    try:
        if qos == 0:
            counter = Proc([args.counter, HOST, str(args.port), topic, str(count)])
            counter.expect(r"^ready", 10)
        t0 = time.monotonic()
        proc = Proc(argv)
        if qos == 0:
            t_end, _ = counter.expect(r"^mqtt count=", args.timeout)
            rate = count / (t_end - t0)
        else:
            _, m = proc.expect(r" rate=(\d+)", args.timeout)
            rate = float(m.group(1))
        proc.finish(timeout=args.timeout)
        return rate, proc.cpu / count * 1e6
    finally:
        if proc is not None and proc.cpu is None:
            proc.finish(timeout=1)
        if counter is not None:
            counter.finish(timeout=1)


def run_recv(args, kind, qos, count):
    """(messages/s, CPU µs per message, flood rate) of one receiver taking a libmosquitto flood,
    first to last arrival."""
    if kind == "c":
        topic = "bench/py/in/c-%d" % os.getpid()
        rx = Proc([args.counter, HOST, str(args.port), topic, str(count)])
        rx.expect(r"^ready", 10)
        pattern = r"^mqtt count=(\d+) seconds=([\d.]+) rate=(\d+)"
    else:
        rx = Proc([PY, os.path.join(HERE, "recv_client.py"), kind, str(qos), str(count), HOST, str(args.port)])
        _, m = rx.expect(r"^ready topic=(\S+)", 30)
        topic = m.group(1)
        pattern = r"^recv count=(\d+) seconds=([\d.]+) rate=(\d+) cpu=([\d.]+)"
    flood = Proc([PY, os.path.join(HERE, "flood_pub.py"), HOST, str(args.port), topic, str(qos), str(count),
                  str(args.size)])
    try:
        flood.expect(r"^ready", 10)
        flood.send()
        _, fm = flood.expect(r"rate=(\d+)", args.timeout)
        _, m = rx.expect(pattern, args.timeout)
        rx.finish(timeout=5)
        cpu = float(m.group(4)) if kind != "c" else rx.cpu  # the C counter: whole process, wait4
        return int(m.group(3)), cpu / count * 1e6, int(fm.group(1))
    finally:
        flood.finish()
        if rx.cpu is None:
            rx.finish(timeout=5)


def median(xs):
    return statistics.median(xs) if xs else None


def fmt(x, spec="%.0f"):
    return "-" if x is None else spec % x


def goal_line(what, num, den, goal):
    if num is None or den is None:
        return "    %-24s      -   (goal >= %.1fx: not measured)" % (what, goal)
    r = num / den
    return "    %-24s %6.2fx  (goal >= %.1fx: %s)" % (what, r, goal, "met" if r >= goal else "NOT met")


def ratio(a, b):
    return "-" if a is None or b is None else "%.2fx" % (a / b)


def recv_table(args, kinds):
    """Run every receiver of @p kinds (kind: label) at QoS 0 and 1 for the rounds, print the
    table; return the medians of the rates and of the CPU per message, by (kind, QoS)."""
    rrates = {(k, q): [] for k in kinds for q in (0, 1)}
    rcpus = {(k, q): [] for k in kinds for q in (0, 1)}
    frates = []
    rerrors = {}
    for r in range(args.rounds):
        for qos in (0, 1):
            for k in kinds:
                try:
                    rx, cpu, fl = run_recv(args, k, qos, args.recv_count)
                    rrates[(k, qos)].append(rx)
                    rcpus[(k, qos)].append(cpu)
                    frates.append(fl)
                except Exception as exc:  # noqa: BLE001
                    rerrors.setdefault((k, qos), []).append(str(exc))
        print("  receive round %d/%d done" % (r + 1, args.rounds), file=sys.stderr, flush=True)
    rmed = {key: median(v) for key, v in rrates.items()}
    rcmed = {key: median(v) for key, v in rcpus.items()}
    print("%-38s %9s %6s %9s %6s   rounds: QoS 0 | QoS 1" % ("receiver", "QoS 0/s", "cpu", "QoS 1/s", "cpu"))
    for k, label in kinds.items():
        print("%-38s %9s %6s %9s %6s   %s | %s" % (
            label, fmt(rmed[(k, 0)]), fmt(rcmed[(k, 0)], "%.1f"), fmt(rmed[(k, 1)]), fmt(rcmed[(k, 1)], "%.1f"),
            " ".join(fmt(x) for x in rrates[(k, 0)]), " ".join(fmt(x) for x in rrates[(k, 1)])))
    if frates:
        print("  (the flood's publish loop handed messages to libmosquitto at a median %.0f/s)"
              % statistics.median(frates))
    for key, errs in rerrors.items():
        print("  FAILED receiver %s QoS %d: %d of %d run(s): %s" % (key[0], key[1], len(errs), args.rounds,
                                                                    errs[0]))
    return rmed, rcmed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cbin", required=True, help="directory of the built bench programs (bench_mqtt_count, ...)")
    ap.add_argument("--count0", type=int, default=50000)
    ap.add_argument("--count1", type=int, default=20000)
    ap.add_argument("--recv-count", type=int, default=50000)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--workdir", default="/tmp")
    ap.add_argument("--skip-recv", action="store_true")
    ap.add_argument("--fleet-only", action="store_true", help="only the Fleet receive rows")
    ap.add_argument("--fleet-devices", type=int, default=100)
    ap.add_argument("--only", default="", help="comma-separated publisher kinds (default: all)")
    args = ap.parse_args()
    args.counter = os.path.join(args.cbin, "bench_mqtt_count")
    kinds = [k for k in PUB_KINDS if not args.only or k in args.only.split(",")]

    import iotkit
    import paho.mqtt
    try:
        crt = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "python3-awscrt"], capture_output=True,
                             text=True).stdout.strip() or "?"
    except OSError:
        crt = "?"
    print("Python MQTT benchmark: mosquitto on %s:%d; %d-byte payloads; QoS 0: %d messages, QoS 1: %d; "
          "%d rounds" % (HOST, args.port, args.size, args.count0, args.count1, args.rounds))
    print("python %s; iotkit %s (libiotkit %s); paho-mqtt %s; awscrt (python3-awscrt) %s; %d CPUs" % (
        sys.version.split()[0], iotkit.__version__, iotkit.library_version(), paho.mqtt.__version__, crt,
        os.cpu_count() or 0))
    if args.fleet_only:
        fleet_section(args)
        return
    print()
    print("Publish throughput: messages/s (QoS 1: first publish to the last PUBACK; QoS 0: first publish to")
    print("the last arrival at an independent C counting subscriber, bench/mqtt_count.c, for every client);")
    print("cpu = CPU microseconds per message of the publishing process, all its threads")

    rates = {(k, q): [] for k in kinds for q in PUB_KINDS[k][1]}
    cpus = {(k, q): [] for k in kinds for q in PUB_KINDS[k][1]}
    errors = {}
    n = 0
    for r in range(args.rounds):
        for qos in (0, 1):
            count = args.count0 if qos == 0 else args.count1
            for k in kinds:
                if qos not in PUB_KINDS[k][1]:
                    continue
                n += 1
                try:
                    rate, cpu = run_pub(args, k, qos, count, n)
                    rates[(k, qos)].append(rate)
                    cpus[(k, qos)].append(cpu)
                except Exception as exc:  # noqa: BLE001 - reported, the run goes on
                    errors.setdefault((k, qos), []).append(str(exc))
        print("  publish round %d/%d done" % (r + 1, args.rounds), file=sys.stderr, flush=True)

    med = {key: median(v) for key, v in rates.items()}
    cmed = {key: median(v) for key, v in cpus.items()}
    print("%-38s %9s %6s %9s %6s   rounds: QoS 0 | QoS 1" % ("client", "QoS 0/s", "cpu", "QoS 1/s", "cpu"))
    for k in kinds:
        print("%-38s %9s %6s %9s %6s   %s | %s" % (
            PUB_KINDS[k][0], fmt(med.get((k, 0))), fmt(cmed.get((k, 0)), "%.1f"), fmt(med.get((k, 1))),
            fmt(cmed.get((k, 1)), "%.1f"), " ".join(fmt(x) for x in rates.get((k, 0), [])),
            " ".join(fmt(x) for x in rates.get((k, 1), []))))
    for key, errs in errors.items():
        print("  FAILED %s QoS %d: %d of %d run(s): %s" % (key[0], key[1], len(errs), args.rounds, errs[0]))

    def best_paho(qos):
        vals = [med.get((p, qos)) for p in PAHO if med.get((p, qos)) is not None]
        return max(vals) if vals else None

    print()
    print("Ratios of the medians (paho: the faster of its two configurations at each QoS):")
    for k in [HEADLINE] + [x for x in ("iotkit-poll", "iotkit-window", "iotkit-count", "iotkit-durable",
                                       "iotkit-aio") if x != HEADLINE]:
        if k not in kinds:
            continue
        print("  %s%s:" % (PUB_KINDS[k][0], " (headline)" if k == HEADLINE else ""))
        for qos in PUB_KINDS[k][1]:
            print(goal_line("iotkit/paho   QoS %d" % qos, med.get((k, qos)), best_paho(qos),
                            3.0 if qos == 0 else 1.5))
            print(goal_line("iotkit/awscrt QoS %d" % qos, med.get((k, qos)), med.get(("awscrt", qos)), 1.0))
    if HEADLINE in kinds:
        def cpu_ratio(other, qos):
            return ratio(cmed.get((other, qos)), cmed.get((HEADLINE, qos)))
        print("  CPU per message, peer / %s (no goal; higher: iotkit is cheaper): paho QoS 0 %s, QoS 1 %s "
              "(defaults), %s (no in-flight limit); awscrt QoS 0 %s, QoS 1 %s" % (
                  PUB_KINDS[HEADLINE][0], cpu_ratio("paho", 0), cpu_ratio("paho", 1),
                  cpu_ratio("paho-unlimited", 1), cpu_ratio("awscrt", 0), cpu_ratio("awscrt", 1)))
        print("  context (no goal): %s / [C] libiotkit: QoS 0 %s, QoS 1 %s; / [C] raw libmosquitto: "
              "QoS 0 %s, QoS 1 %s" % (PUB_KINDS[HEADLINE][0],
                                      ratio(med.get((HEADLINE, 0)), med.get(("c-iotkit", 0))),
                                      ratio(med.get((HEADLINE, 1)), med.get(("c-iotkit", 1))),
                                      ratio(med.get((HEADLINE, 0)), med.get(("c-raw", 0))),
                                      ratio(med.get((HEADLINE, 1)), med.get(("c-raw", 1)))))

    if args.skip_recv:
        return
    print()
    print("Receive rate: messages/s from the first to the last arrival of %d messages flooded by a raw" %
          args.recv_count)
    print("libmosquitto publisher (flood_pub.py: ctypes; QoS 1: libmosquitto's window of 20 in flight), each")
    print("receiver subscribed at the flood's QoS; the broker's own window toward a subscriber is 20 as well;")
    print("cpu = CPU microseconds per message of the receiving process over that span")
    rmed, rcmed = recv_table(args, RECV_KINDS)
    print("  iotkit.Device (bg loop) / paho: rate QoS 0 %s, QoS 1 %s; CPU per message QoS 0 %s, QoS 1 %s" % (
        ratio(rmed[("iotkit-bg", 0)], rmed[("paho", 0)]), ratio(rmed[("iotkit-bg", 1)], rmed[("paho", 1)]),
        ratio(rcmed[("iotkit-bg", 0)], rcmed[("paho", 0)]), ratio(rcmed[("iotkit-bg", 1)], rcmed[("paho", 1)])))
    fleet_section(args)


def fleet_section(args):
    """The receive comparison of issue 13: Fleet against a paho subscriber, same stream."""
    print()
    print("Fleet receive rate: messages/s from the first to the last arrival of %d telemetry messages (two" %
          args.recv_count)
    print("points in JSON each) of %d registered devices, flooded by flood_pub.py; the fleet decodes each into"
          % args.fleet_devices)
    print("points, updates its live view and calls its callback; the paho subscriber (iotkit/v1/+/telemetry)")
    print("only counts. The fleet's own subscription is QoS 1, so a QoS 0 flood reaches it at QoS 0, a QoS 1")
    print("flood at QoS 1; cpu = CPU microseconds per message of the receiving process")
    os.environ["FLEET_DEVICES"] = str(args.fleet_devices)
    fmed, fcmed = recv_table(args, FLEET_KINDS)
    for qos in (0, 1):
        print("  iotkit.Fleet (bg loop) / paho, QoS %d: rate %s, CPU per message %s; iotkit.aio.Fleet / paho: "
              "rate %s" % (qos, ratio(fmed[("fleet-bg", qos)], fmed[("paho-fleet", qos)]),
                           ratio(fcmed[("fleet-bg", qos)], fcmed[("paho-fleet", qos)]),
                           ratio(fmed[("fleet-aio", qos)], fmed[("paho-fleet", qos)])))


if __name__ == "__main__":
    main()
