// Smoke test for the cpp runtime image: compiled, then run with the sandbox's flags. It must print exactly OK.
#include <algorithm>
#include <iostream>
#include <map>
#include <string>
#include <unistd.h>
#include <vector>

int main() {
  if (getuid() == 0 || getgid() == 0) return 1; // any unprivileged uid: each sandbox has its own
  std::vector<int> v{3, 1, 2};
  std::sort(v.begin(), v.end());
  std::map<std::string, int> m{{"a", v[0]}};
  if (v != std::vector<int>{1, 2, 3} || m["a"] != 1) return 2;
  std::cout << "OK" << std::endl;
  return 0;
}
