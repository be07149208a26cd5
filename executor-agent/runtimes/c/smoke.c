/* Smoke test for the c runtime image: compiled, then run with the sandbox's flags. It must print exactly OK. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
  if (getuid() == 0 || getgid() == 0) return 1; // any unprivileged uid: each sandbox has its own
  if (fabs(sqrt(2.0) * sqrt(2.0) - 2.0) > 1e-9) return 2;
  FILE *f = fopen("/tmp/smoke", "w+");
  if (!f || fputs("ok", f) < 0) return 3;
  rewind(f);
  char buf[8] = {0};
  if (!fgets(buf, sizeof buf, f) || strcmp(buf, "ok") != 0) return 4;
  puts("OK");
  return 0;
}
