"""Patches: exact round trips at any size and step, averaging of overlaps, layouts, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skcompress import Patches
from skcompress.sparse import extract_patches, reconstruct_from_patches


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 3),
    kind=st.sampled_from(["1d", "gray", "colour"]),
    size=st.tuples(st.integers(1, 13), st.integers(1, 13)),
    patch=st.tuples(st.integers(1, 6), st.integers(1, 6)),
    step=st.tuples(st.integers(1, 7), st.integers(1, 7)),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_round_trip_is_exact(n, kind, size, patch, step, dtype, seed):
    shape = {"1d": size[:1], "gray": size, "colour": (*size, 3)}[kind]
    spatial = 1 if kind == "1d" else 2
    X = np.random.default_rng(seed).normal(size=(n, *shape)).astype(dtype)
    step = tuple(min(t, p) for t, p in zip(step, patch, strict=True))
    P = extract_patches(X, patch[:spatial], step[:spatial])
    assert P.dtype == dtype
    assert P.shape[1 + spatial : 1 + 2 * spatial] == patch[:spatial]
    back = reconstruct_from_patches(P, shape, step[:spatial])
    assert back.dtype == dtype and back.shape == X.shape
    np.testing.assert_allclose(back, X, rtol=1e-6)


def test_every_sample_is_in_a_patch_and_patches_are_the_windows():
    X = np.arange(2 * 7 * 9, dtype=float).reshape(2, 7, 9)
    P = extract_patches(X, (3, 4), step=(2, 3))
    assert P.shape == (2, 3, 3, 3, 4)  # 7 -> 3 rows (padded to 7), 9 -> 3 cols (padded to 10)
    # the last column of patches reaches one pixel past the edge, replicated
    np.testing.assert_array_equal(P[1, 1, 2], np.pad(X[1, 2:5, 6:9], [(0, 0), (0, 1)], "edge"))
    np.testing.assert_array_equal(P[0, 0, 0], X[0, :3, :4])


def test_overlaps_are_averaged():
    rng = np.random.default_rng(1)
    P = rng.normal(size=(2, 4, 5, 3, 3))  # 3x3 patches every pixel of a 6x7 image
    out = reconstruct_from_patches(P, (6, 7), step=1)
    total, count = np.zeros((2, 6, 7)), np.zeros((6, 7))
    for r in range(4):
        for c in range(5):
            total[:, r : r + 3, c : c + 3] += P[:, r, c]
            count[r : r + 3, c : c + 3] += 1
    np.testing.assert_allclose(out, total / count)


def test_transformer_layouts_and_names():
    rng = np.random.default_rng(2)
    images = rng.uniform(0, 255, size=(3, 10, 12, 3)).astype(np.float32)
    flat = Patches(4, step=2).fit(images)
    out = flat.transform(images)
    assert out.dtype == np.float32
    assert flat.grid_shape_ == (4, 5) and flat.patch_shape_ == (4, 4, 3)
    assert out.shape == (3, 4 * 5 * 48)
    names = flat.get_feature_names_out()
    assert len(names) == out.shape[1] and names[0] == "patch0_0_px0_0_ch0"
    for layout, shape in [("blocks", (3, 4, 5, 48)), ("channels_first", (3, 48, 4, 5))]:
        step = Patches(4, step=2, layout=layout).fit(images)
        B = step.transform(images)
        assert B.shape == shape
        np.testing.assert_allclose(step.inverse_transform(B), images, rtol=1e-6)
        np.testing.assert_allclose(step.inverse_transform(out), images, rtol=1e-6)
    signals = rng.normal(size=(5, 30))
    one_d = Patches(8, step=4, layout="blocks").fit(signals)
    assert one_d.transform(signals).shape == (5, 7, 8)
    np.testing.assert_allclose(one_d.inverse_transform(one_d.transform(signals)), signals)
    assert Patches(3).fit(signals).get_feature_names_out()[4] == "patch1_px1"


def test_flattened_rows_with_signal_shape():
    X = np.random.default_rng(3).normal(size=(4, 64))
    patches = Patches(4, signal_shape=(8, 8)).fit(X)
    assert patches.transform(X).shape == (4, 64)
    np.testing.assert_allclose(patches.inverse_transform(patches.transform(X)), X.reshape(4, 8, 8))


def test_errors_are_named():
    X = np.zeros((2, 8, 8))
    with pytest.raises(
        ValueError, match=r"patch_size must be an int in \[1, 4096\] or a tuple of 2"
    ):
        extract_patches(X, (2, 2, 2))
    with pytest.raises(ValueError, match=r"step must be an int in \[1, 4096\] or a tuple of 2"):
        extract_patches(X, 2, step=0)
    with pytest.raises(ValueError, match=r"step=3 exceeds the patch size \(2, 2\)"):
        extract_patches(X, 2, step=3)
    with pytest.raises(ValueError, match="extract_patches expects X of shape"):
        extract_patches(np.zeros(5), 2)
    with pytest.raises(ValueError, match=r"have a grid of \(4, 4\) patches"):
        reconstruct_from_patches(np.zeros((2, 3, 4, 2, 2)), (8, 8))
    with pytest.raises(ValueError, match="signal_shape must be"):
        reconstruct_from_patches(np.zeros((2, 3, 4, 2, 2)), (8, 8, 1, 1))
    with pytest.raises(ValueError, match=r"Patches: patch_size must be an int in \[1, 4096\]"):
        Patches((2, 2, 2)).fit(X)
    fitted = Patches(4).fit(X)
    with pytest.raises(ValueError, match="was fitted on signals of shape"):
        fitted.transform(np.zeros((2, 8, 9)))
    with pytest.raises(ValueError, match="expects coefficients of shape"):
        fitted.inverse_transform(np.zeros((2, 63)))
