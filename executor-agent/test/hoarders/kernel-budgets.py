# Per-user kernel budgets, from inside a sandbox (and, run with "host", from the host).
#   hoard: take as much as the sandbox lets one evaluation take of every resource the kernel counts
#          per user (or per user up the user-namespace hierarchy), print HOARDING <json>, then hold it
#          all until killed.
#          A second argument caps the processes it forks (under gVisor a fork bomb takes the whole
#          sandbox down with the sentry's host threads, which would end the hoard).
#   use:   take a little of each ("host": the same, run on the host); print one JSON line: resource -> "ok" or the errno that refused it.
# gateway/test/kernel-budgets.test.ts compares "use" in a second evaluation, and from the host,
# while one evaluation hoards, with "use" while nobody does: hoarding must change nothing for them.
import ctypes, ctypes.util, errno, fcntl, json, mmap, os, select, signal, sys, time

mode = sys.argv[1]
hoard = mode == "hoard"
libc = ctypes.CDLL(None, use_errno=True)
libc.mlock.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
X86 = os.uname().machine == "x86_64"
SYS = {"inotify_init1": 294 if X86 else 26, "add_key": 248 if X86 else 217, "keyctl": 250 if X86 else 219,
       "io_setup": 206 if X86 else 0, "io_destroy": 207 if X86 else 1, "unshare": 272 if X86 else 97}
held = []  # everything taken, so that nothing is released until the process dies
out = {}

def fail():
    return errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))

def take(name, one, most):
    """Calls one() up to `most` times (hoard) or 2 times (use); records the count or the errno."""
    n, why = 0, None
    for _ in range(most if hoard else 2):
        try:
            r = one()
        except OSError as e:
            why = errno.errorcode.get(e.errno, str(e.errno))
            break
        if r is False:
            why = fail()
            break
        n += 1
    out[name] = n if hoard else ("ok" if why is None else why)

# fds are capped per process (nofile 256), so each resource is hoarded in a child of its own.
def in_child(name, body):
    if not hoard:
        body()
        return
    rd, wr = os.pipe()
    if os.fork() == 0:
        os.close(rd)
        try:
            body()
        except Exception as e:  # report, never die silently
            out[name] = "error %r" % e
        os.write(wr, json.dumps(out).encode())
        os.close(wr)
        while True:
            time.sleep(3600)
    os.close(wr)
    data = b""
    while True:
        chunk = os.read(rd, 65536)
        if not chunk:
            break
        data += chunk
        try:
            out.update(json.loads(data))
            break
        except ValueError:
            continue
    os.close(rd)

def inotify():
    def one():
        fd = libc.syscall(SYS["inotify_init1"], 0)
        if fd < 0:
            return False
        held.append(fd)
    take("inotify instances", one, 250)

def mqueue():
    librt = ctypes.CDLL(ctypes.util.find_library("rt") or "librt.so.1", use_errno=True)
    librt.mq_open.restype = ctypes.c_int
    def one():
        name = ("/crucible-%d-%d" % (os.getpid(), len(held))).encode()
        fd = librt.mq_open(name, os.O_CREAT | os.O_RDWR, 0o600, None)
        if fd < 0:
            return False
        librt.mq_unlink(name)  # the queue lives on while its descriptor is open
        held.append(fd)
    take("posix message queues", one, 200)

def signals():
    # Blocked realtime signals queue one entry each, counted per user against RLIMIT_SIGPENDING.
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGRTMIN])
    info = (ctypes.c_int * 32)()
    def one():
        info[0], info[1], info[2] = signal.SIGRTMIN, 0, -1  # si_signo, si_errno, si_code SI_QUEUE
        return libc.syscall(129 if X86 else 240, os.getpid(), signal.SIGRTMIN, info) == 0 or False  # rt_sigqueueinfo
    take("pending signals", one, 200_000)

def pipes():
    # Pipe buffer pages are counted per user (fs.pipe-user-pages-soft); past it, pipes shrink to one page.
    def one():
        r, w = os.pipe()
        os.close(r)
        fcntl.fcntl(w, 1031, 1 << 20)  # F_SETPIPE_SZ: 1 MiB
        held.append(w)
    take("pipe buffers", one, 200)

def epoll():
    def one():
        ep = select.epoll()
        r, w = os.pipe()
        ep.register(r, select.EPOLLIN)
        held.extend([ep, r, w])
    take("epoll watches", one, 2 if not hoard else 60)

def memlock():
    def one():
        m = mmap.mmap(-1, 4096)
        m[0:1] = b"x"
        buf = ctypes.c_char.from_buffer(m)
        if libc.mlock(ctypes.addressof(buf), 4096) != 0:
            return False
        held.append((m, buf))
    take("locked memory pages", one, 100_000)

def keyring():
    libc.syscall(SYS["keyctl"], 1, None)  # KEYCTL_JOIN_SESSION_KEYRING: a fresh anonymous one, gone with us
    take("keys", lambda: libc.syscall(SYS["add_key"], b"user", b"crucible-%d" % os.getpid(), b"x", 1, -3) >= 0 or False, 1000)  # KEY_SPEC_SESSION_KEYRING

def userns():
    def one():
        pid = os.fork()
        if pid == 0:
            os._exit(0 if libc.syscall(SYS["unshare"], 0x10000000) == 0 else 1)
        _, st = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(st) != 0:
            raise OSError(errno.EPERM, "unshare(CLONE_NEWUSER) refused")
    take("user namespaces", one, 1)

def aio():
    def one():
        ctx = ctypes.c_ulong(0)
        if libc.syscall(SYS["io_setup"], 4096 if hoard else 8, ctypes.byref(ctx)) != 0:
            return False
        held.append(ctx)
    take("aio contexts", one, 64)

def processes():
    def one():
        pid = os.fork()
        if pid == 0:
            while True:
                time.sleep(3600)
        held.append(pid)
    take("processes", one, int(sys.argv[2]) if len(sys.argv) > 2 else 100_000)
    if not hoard:
        for pid in held[-2:]:
            if isinstance(pid, int):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)

for name, f in [("inotify", inotify), ("mqueue", mqueue), ("signals", signals), ("pipes", pipes), ("epoll", epoll),
                ("memlock", memlock), ("keyring", keyring), ("userns", userns), ("aio", aio)]:
    in_child(name, f)
processes()  # last: it takes every pid the sandbox has left
if hoard:
    print("HOARDING " + json.dumps(out), flush=True)
    while True:
        time.sleep(3600)
print(json.dumps(out), flush=True)
