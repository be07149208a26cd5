# Smoke test for the python runtime image, run with the sandbox's own flags (read-only root,
# tmpfs /tmp, an unprivileged pooled uid, no network). It must print exactly OK.
import decimal, hashlib, json, os, re, sqlite3, sys, tempfile, zlib

assert os.getuid() != 0 and os.getgid() != 0, os.getuid()  # each sandbox runs as its own pooled uid
assert sys.version_info >= (3, 11), sys.version
assert json.loads('{"a": [1, 2]}')["a"] == [1, 2]
assert re.fullmatch(r"\d+", "42")
assert str(decimal.Decimal("0.1") + decimal.Decimal("0.2")) == "0.3"
assert zlib.decompress(zlib.compress(b"x" * 100)) == b"x" * 100
assert hashlib.sha256(b"").hexdigest().startswith("e3b0c442")
db = sqlite3.connect(":memory:")
assert db.execute("select 6 * 7").fetchone() == (42,)
with tempfile.NamedTemporaryFile("w+") as f:  # /tmp must be writable
    f.write("é")
    f.seek(0)
    assert f.read() == "é"
print("OK")
