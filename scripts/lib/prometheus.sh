# Prometheus for the dashboards' tests: promtool checks and unit-tests the rules, and the live test
# starts its own /usr/bin/prometheus on a free port with a temporary data folder. Both come from
# Debian's `prometheus` package. Installing it may start the packaged service where an init system
# runs (not in a container without one); the tests never use it or its port 9090.

ensure_prometheus() {
  command -v promtool >/dev/null && [ -x /usr/bin/prometheus ] && return 0
  apt_install prometheus || warn "promtool or /usr/bin/prometheus is missing and cannot be installed (not root on Debian): the dashboards' tests will fail"
}
