# What the nomad driver's tests need beyond Node: openssl, to make a throwaway CA and certificates
# for the TLS test (scheduler/test/nomad/tls.test.ts). No Nomad binary is used: the tests run
# against a fake Nomad checked against scheduler/nomad-spec/openapi.yaml.

ensure_nomad_test_tools() {
  command -v openssl >/dev/null && return 0
  apt_install openssl || warn "openssl is missing and cannot be installed (not root on Debian): the Nomad TLS test will fail"
}
