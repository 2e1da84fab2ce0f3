#!/usr/bin/python3
"""Writes the small real-world golden files of tests/data/realworld/ and expected.json.

Run once, by hand, with Debian's /usr/bin/python3 (it has torch, numpy, pandas and
scikit-learn); the tests and CI read only the files written here, never those libraries.
The facts in expected.json (names, dtypes, shapes, strides, offsets, first values, sums,
reprs, the globals a pickle imports) come from the real libraries and from CPython's own
unpickler, so the C++ readers are checked against them, not against themselves.

    /usr/bin/python3 tools/gen/make_realworld_pickles.py [output-dir] [--only PART,...]

PART is torch, numpy, pandas_sklearn or out_of_band (default: all). With --only, the other
parts' files and facts are kept as they are (legacy.pt changes at every run: see below).
"""
import io
import json
import os
import pickle
import pickletools
import sys
import zipfile

import numpy as np
import torch

OUT = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else os.path.join(
    os.path.dirname(__file__), "..", "..", "tests", "data", "realworld")


def tensor_facts(name, t):
    flat = t.detach().reshape(-1)
    return {
        "name": name,
        "dtype": str(t.dtype).removeprefix("torch."),
        "shape": list(t.shape),
        "stride": list(t.stride()),
        "storage_offset": t.storage_offset(),
        "requires_grad": t.requires_grad,
        "numel": t.numel(),
        "first": [float(x) for x in flat[:3].tolist()],
        "sum": float(t.detach().double().sum()),
    }


def write_torch(facts):
    # A tiny model: two layers, float32 weights and BatchNorm's int64 num_batches_tracked.
    torch.manual_seed(12)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    model.train()
    model(torch.randn(5, 3))  # moves running_mean/var and counts one batch
    state = model.state_dict()
    torch.save(state, os.path.join(OUT, "tiny_state_dict.pt"))
    facts["tiny_state_dict.pt"] = [tensor_facts(k, v) for k, v in state.items()]

    # Views sharing one storage (strides, offsets), and dtypes beyond float32/int64.
    base = torch.arange(12, dtype=torch.float64).reshape(3, 4)
    views = {
        "base": base,
        "transposed": base.t(),
        "row1": base[1],
        "column2": base[:, 2],
        "half": torch.tensor([0.5, -1.25, 3.0], dtype=torch.float16),
        "bf16": torch.tensor([1.0, 2.5, -4.0], dtype=torch.bfloat16),
        "flags": torch.tensor([True, False, True]),
        "bytes": torch.tensor([1, 200, 255], dtype=torch.uint8),
        "int32": torch.tensor([[-7, 8], [9, -10]], dtype=torch.int32),
        "scalar": torch.tensor(2.75),
    }
    torch.save(views, os.path.join(OUT, "views.pt"))
    facts["views.pt"] = [tensor_facts(k, v) for k, v in views.items()]

    # Parameters (torch._utils._rebuild_parameter), one trainable, one frozen, in a list.
    params = {"weight": torch.nn.Parameter(torch.tensor([1.0, 2.0])),
              "layers": [torch.nn.Parameter(torch.tensor([3.0]), requires_grad=False)]}
    torch.save(params, os.path.join(OUT, "params.pt"))
    facts["params.pt"] = [tensor_facts("weight", params["weight"]),
                          tensor_facts("layers.0", params["layers"][0])]

    # The format before torch 1.6: a bare pickle stream (magic number, protocol, sys info,
    # the object pickle, storage keys, raw storages), which ouro recognises but does not read.
    # (Its storage keys are object ids, so this file differs from run to run.)
    torch.save({"w": torch.ones(2)}, os.path.join(OUT, "legacy.pt"),
               _use_new_zipfile_serialization=False)

    # A big-endian checkpoint, as torch >= 2.1 writes on such machines: the same zip with a
    # byteorder record "big" and every storage byte-swapped (torch 1.13 here cannot write
    # one, so this rewrites the little-endian file; the facts are the little-endian ones).
    src = zipfile.ZipFile(os.path.join(OUT, "tiny_state_dict.pt"))
    sizes = {k: v.element_size() for k, v in state.items()}
    elem_of_key = {}
    prefix = src.namelist()[0].split("/")[0]  # torch names the folder after the file
    data_pkl = src.read(f"{prefix}/data.pkl")
    # Storage keys in order of appearance match the state dict's tensors (one storage each).
    keys = [arg for op, arg, _ in pickletools.genops(data_pkl)
            if op.name == "BINUNICODE" and arg.isdigit()]
    for key, (name, size) in zip(keys, sizes.items()):
        elem_of_key[key] = size
    with zipfile.ZipFile(os.path.join(OUT, "big_endian_state_dict.pt"), "w",
                         zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            key = info.filename.rsplit("/", 1)[-1]
            if info.filename.startswith(f"{prefix}/data/") and key in elem_of_key:
                size = elem_of_key[key]
                data = b"".join(data[i:i + size][::-1] for i in range(0, len(data), size))
            dst.writestr(zipfile.ZipInfo(info.filename), data)  # fixed 1980 date: reproducible
        dst.writestr(zipfile.ZipInfo(f"{prefix}/byteorder"), "big")
    facts["big_endian_state_dict.pt"] = facts["tiny_state_dict.pt"]


def array_facts(name, a, protocol):
    flat = a.reshape(-1, order="A") if a.ndim else a.reshape(1)
    numeric = a.dtype.kind in "biufc"
    return {
        "name": name,
        "protocol": protocol,
        "dtype": a.dtype.str,
        "dtype_name": a.dtype.name,
        "shape": list(a.shape),
        "strides": list(a.strides),
        "fortran": bool(a.flags.f_contiguous and not a.flags.c_contiguous),
        "repr": repr(a),
        "first": [float(np.real(x)) for x in flat[:3]] if numeric else [],
        "sum": float(np.sum(a.real.astype(np.float64))) if numeric else None,
    }


def write_numpy(facts):
    arrays = {
        "int32": np.array([1, 2, 3], dtype=np.int32),
        "int64_2d": np.arange(6, dtype=np.int64).reshape(2, 3),
        "uint8": np.array([0, 7, 255], dtype=np.uint8),
        "int16": np.array([-300, 0, 300], dtype=np.int16),
        "float64": np.array([1.0, 2.5, -3.25]),
        "float32_fortran": np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)),
        "float16": np.array([0.5, 1.5, 2.0], dtype=np.float16),
        "big_endian_int32": np.array([1, 256, 65536], dtype=">i4"),
        "big_endian_float64": np.array([1.5, -2.0], dtype=">f8"),
        "bool": np.array([True, False, True]),
        "complex128": np.array([1 + 2j, -0.5j]),
        "zero_d": np.array(42, dtype=np.int64),
        "empty": np.zeros((0,), dtype=np.float32),
        "empty_3x0": np.zeros((3, 0), dtype=np.int16),
        "int8_3d": np.arange(-4, 4, dtype=np.int8).reshape(2, 2, 2),
        "float32_fractions": np.array([0.1, 0.25, -3.0], dtype=np.float32),
        "uint64_big": np.array([0, 2**64 - 1], dtype=np.uint64),
        "structured": np.array([(1, 2.0)], dtype=[("a", "<i4"), ("b", "<f8")]),
        "object": np.array([1, "x"], dtype=object),
    }
    facts["arrays"] = []
    for protocol in (2, 5):
        for name, a in arrays.items():
            file = f"np_{name}_p{protocol}.pkl"
            with open(os.path.join(OUT, file), "wb") as f:
                pickle.dump(a, f, protocol=protocol)
            # The facts of the array pickle.loads gives back (numpy recomputes the strides
            # of empty arrays, which then differ from the original's).
            entry = array_facts(name, pickle.loads(pickle.dumps(a, protocol=protocol)), protocol)
            entry["file"] = file
            # The dtype as stored in the file: numpy's __setstate__ swaps non-native data to
            # native order on load (protocols 0-4), ouro's view keeps the stored order.
            entry["stored_dtype"] = a.dtype.str
            facts["arrays"].append(entry)
    # Protocol 5 with the data out of band: the pickle says NEXT_BUFFER, the bytes go apart.
    oob = np.arange(4, dtype=np.float64).reshape(2, 2) / 4
    buffers = []
    with open(os.path.join(OUT, "np_float64_p5_oob.pkl"), "wb") as f:
        f.write(pickle.dumps(oob, protocol=5, buffer_callback=buffers.append))
    with open(os.path.join(OUT, "np_float64_p5_oob.buf"), "wb") as f:
        f.write(buffers[0].raw())
    entry = array_facts("out_of_band", oob, 5)
    entry.update(file="np_float64_p5_oob.pkl", buffer="np_float64_p5_oob.buf",
                 stored_dtype=oob.dtype.str)
    facts["out_of_band"] = entry
    scalars = {"float64": np.float64(1.5), "int32": np.int32(-7), "bool": np.bool_(True)}
    facts["scalars"] = []
    for name, s in scalars.items():
        file = f"np_scalar_{name}.pkl"
        with open(os.path.join(OUT, file), "wb") as f:
            pickle.dump(s, f, protocol=2)
        facts["scalars"].append({"file": file, "dtype": s.dtype.str, "repr": repr(s),
                                 "value": float(s)})


class RecordingUnpickler(pickle.Unpickler):
    """CPython's own unpickler, noting every global it imports (find_class)."""

    def __init__(self, data, **kwargs):
        super().__init__(io.BytesIO(data), **kwargs)
        self.found = set()

    def find_class(self, module, name):
        self.found.add(f"{module}.{name}")
        return super().find_class(module, name)


def globals_of(data, **kwargs):
    unpickler = RecordingUnpickler(data, **kwargs)
    unpickler.load()
    return sorted(unpickler.found)


def write_pandas_sklearn(facts):
    """A data frame, a series and two fitted scikit-learn models: what `scan` must list
    (the globals CPython imports to load them) and that inspect mode loads them."""
    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(7)
    x = rng.normal(size=(20, 2)).round(3)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    values = {
        "pd_dataframe_p5.pkl": (pd.DataFrame({
            "id": np.array([1, 2, 3, 4], dtype=np.int64),
            "score": [0.5, 1.25, -2.0, 3.5],
            "name": ["ann", "bob", "cy", "dee"],
            "when": pd.to_datetime(["2024-01-02", "2024-02-03 04:05", "2023-12-31",
                                    "2024-06-30 23:59:59"]),
        }), 5),
        "pd_series_p4.pkl": (pd.Series([1.5, -2.0, 4.25], index=["a", "b", "c"],
                                       name="weights"), 4),
        "sk_logistic_regression_p5.pkl": (LogisticRegression().fit(x, y), 5),
        "sk_random_forest_p4.pkl": (RandomForestClassifier(
            n_estimators=2, max_depth=2, random_state=0).fit(x, y), 4),
    }
    facts["pandas_sklearn"] = []
    for file, (value, protocol) in values.items():
        data = pickle.dumps(value, protocol=protocol)
        with open(os.path.join(OUT, file), "wb") as f:
            f.write(data)
        facts["pandas_sklearn"].append({"file": file, "protocol": protocol,
                                        "type": type(value).__module__ + "." +
                                        type(value).__qualname__,
                                        "globals": globals_of(data)})


def write_out_of_band(facts):
    """Protocol 5 with two out-of-band buffers (NEXT_BUFFER, one read-only) in plain data,
    for `--buffer FILE` in order; the repr and convert's bytes come from python3 in the
    test itself (no library needed)."""
    value = {"raw": pickle.PickleBuffer(bytearray(b"writable \x00\xff")),
             "frozen": pickle.PickleBuffer(b"read-only"), "tail": [1, 2]}
    buffers = []
    data = pickle.dumps(value, protocol=5, buffer_callback=buffers.append)
    with open(os.path.join(OUT, "oob_two_buffers_p5.pkl"), "wb") as f:
        f.write(data)
    names = []
    for i, b in enumerate(buffers):
        names.append(f"oob_two_buffers_p5.{i}.buf")
        with open(os.path.join(OUT, names[-1]), "wb") as f:
            f.write(b.raw())
    facts["out_of_band_plain"] = {"file": "oob_two_buffers_p5.pkl", "buffers": names}


PARTS = {"torch": write_torch, "numpy": write_numpy, "pandas_sklearn": write_pandas_sklearn,
         "out_of_band": write_out_of_band}


def main():
    os.makedirs(OUT, exist_ok=True)
    parts = list(PARTS)
    if "--only" in sys.argv:
        parts = sys.argv[sys.argv.index("--only") + 1].split(",")
    facts = {}
    expected = os.path.join(OUT, "expected.json")
    if parts != list(PARTS) and os.path.exists(expected):
        with open(expected) as f:
            facts = json.load(f)
    import pandas as pd
    import sklearn
    facts.update({"generator": "tools/gen/make_realworld_pickles.py",
                  "torch": torch.__version__, "numpy": np.__version__,
                  "pandas": pd.__version__, "sklearn": sklearn.__version__})
    for part in parts:
        PARTS[part](facts)
    with open(expected, "w") as f:
        json.dump(facts, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
