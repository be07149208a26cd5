# Smoke test for the python-ml runtime image, run with the sandbox's flags. It must print exactly OK.
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np
import pandas as pd
from scipy import linalg
from sklearn.linear_model import LinearRegression

assert os.getuid() != 0 and os.getgid() != 0  # any unprivileged uid: each sandbox has its own
a = np.array([[2.0, 0.0], [0.0, 4.0]])
assert np.allclose(linalg.inv(a), [[0.5, 0], [0, 0.25]])
df = pd.DataFrame({"x": [1, 2, 3], "y": [2, 4, 6]})
model = LinearRegression().fit(df[["x"]], df["y"])
assert abs(model.coef_[0] - 2) < 1e-9
print("OK")
