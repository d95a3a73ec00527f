"""PerceptualQuantizer: tables, IJG scaling, rounding, layouts, rate."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from skcompress import BlockDCT, PerceptualQuantizer
from skcompress.quantization import JPEG_CHROMA, JPEG_LUMA, ijg_scale
from skcompress.transforms import zigzag_order


def test_annex_k_tables():
    assert JPEG_LUMA[0].tolist() == [16, 11, 10, 16, 24, 40, 51, 61]
    assert JPEG_LUMA[7].tolist() == [72, 92, 95, 98, 112, 100, 103, 99]
    assert JPEG_CHROMA[0].tolist() == [17, 18, 24, 47, 99, 99, 99, 99]
    assert JPEG_CHROMA[3].tolist() == [47, 66, 99, 99, 99, 99, 99, 99]
    assert JPEG_LUMA[:, 0].tolist() == [16, 12, 14, 14, 18, 24, 49, 72]
    assert (JPEG_CHROMA[4:] == 99).all() and (JPEG_CHROMA[:, 4:] == 99).all()


@pytest.mark.parametrize(
    ("quality", "first_row"),
    [
        (50, [16, 11, 10, 16, 24, 40, 51, 61]),
        (75, [8, 6, 5, 8, 12, 20, 26, 31]),
        (90, [3, 2, 2, 3, 5, 8, 10, 12]),
        (10, [80, 55, 50, 80, 120, 200, 255, 255]),
        (100, [1] * 8),
        (1, [255] * 8),
    ],
)
def test_ijg_quality_scaling(quality, first_row):
    assert ijg_scale(JPEG_LUMA, quality)[0].tolist() == first_row


def test_steps_follow_the_coefficient_order():
    zz = PerceptualQuantizer(quality=75).fit(np.zeros((1, 64)))
    natural = PerceptualQuantizer(quality=75, order="natural").fit(np.zeros((1, 64)))
    table = ijg_scale(JPEG_LUMA, 75).ravel()
    np.testing.assert_array_equal(natural.steps_, table)
    np.testing.assert_array_equal(zz.steps_, table[zigzag_order(8)])
    cut = PerceptualQuantizer(n_coefficients=6).fit(np.zeros((1, 12)))
    np.testing.assert_array_equal(cut.steps_, JPEG_LUMA.ravel()[zigzag_order(8)[:6]])


def test_rounds_half_away_from_zero_like_libjpeg():
    q = PerceptualQuantizer(table=2.0).fit(np.zeros((1, 6)))
    G = np.array([[1.0, -1.0, 3.0, -3.0, 0.9, -5.2]])
    assert q.transform(G).tolist() == [[1, -1, 2, -2, 0, -3]]


def test_uniform_scalar_and_user_matrix_tables():
    G = np.random.default_rng(0).normal(0, 50, (5, 128))
    q = PerceptualQuantizer(table=4.0).fit(G)
    np.testing.assert_array_equal(q.transform(G), np.trunc(G / 4 + np.copysign(0.5, G)))
    user = np.arange(1, 65).reshape(8, 8)
    q = PerceptualQuantizer(table=user, order="natural").fit(G)
    np.testing.assert_array_equal(q.steps_, np.arange(1, 65))


def test_per_channel_tables_broadcast_over_blocks_layout():
    X = np.random.default_rng(1).uniform(0, 255, (2, 16, 16, 2))
    G = BlockDCT(layout="blocks").fit_transform(X)
    tables = np.stack([JPEG_LUMA, JPEG_CHROMA])
    q = PerceptualQuantizer(table=tables, layout="blocks").fit(G)
    B = q.transform(G)
    zz = zigzag_order(8)
    expected_luma = PerceptualQuantizer(layout="blocks").fit(G[..., 0, :]).transform(G[..., 0, :])
    np.testing.assert_array_equal(B[..., 0, :], expected_luma)
    np.testing.assert_array_equal(q.steps_[64:], JPEG_CHROMA.ravel()[zz])


@pytest.mark.parametrize("layout", ["flat", "blocks", "channels_first"])
def test_same_symbols_in_every_layout(layout):
    X = np.random.default_rng(2).uniform(0, 255, (3, 16, 24))
    flat = BlockDCT(n_coefficients=10).fit_transform(X)
    expected = PerceptualQuantizer(quality=30, n_coefficients=10).fit(flat).transform(flat)
    G = BlockDCT(n_coefficients=10, layout=layout).fit_transform(X)
    n_coef = 10 if layout == "flat" else None
    q = PerceptualQuantizer(quality=30, n_coefficients=n_coef, layout=layout).fit(G)
    B = q.transform(G)
    as_blocks = np.moveaxis(B, 1, -1) if layout == "channels_first" else B
    np.testing.assert_array_equal(as_blocks.reshape(3, -1), expected)
    back = q.inverse_transform(B)
    assert back.shape == G.shape
    assert q.bits_per_sample(G) == pytest.approx(
        PerceptualQuantizer(quality=30, n_coefficients=10).fit(flat).bits_per_sample(flat)
    )


@settings(max_examples=50, deadline=None)
@given(
    G=hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 4), st.sampled_from([64, 128])),
        elements=st.floats(-2000, 2000),
    ),
    quality=st.integers(1, 100),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_dequantization_error_is_at_most_half_a_step(G, quality, dtype):
    G = G.astype(dtype)
    q = PerceptualQuantizer(quality=quality).fit(G)
    back = q.inverse_transform(q.transform(G))
    assert back.dtype == dtype
    steps = np.tile(q.steps_, G.shape[1] // 64)
    assert np.all(np.abs(back - G) <= steps / 2 * (1 + 1e-6) + 1e-3)


def test_rate_falls_as_quality_falls():
    X = np.random.default_rng(3).normal(128, 40, (40, 32, 32)).clip(0, 255)
    G = BlockDCT().fit_transform(X)
    bits = [PerceptualQuantizer(quality=q).fit(G).bits_per_sample(G) for q in (90, 50, 10)]
    assert bits[0] > bits[1] > bits[2] > 0


def test_table_that_does_not_tile_the_input_is_refused():
    with pytest.raises(ValueError, match=r"64 steps per block, which do not tile.*n_coefficients"):
        PerceptualQuantizer().fit(np.zeros((2, 100)))


@pytest.mark.parametrize("table", [0.0, -1.0, [1.0, 0.0], [[np.nan]]])
def test_bad_tables_are_refused(table):
    with pytest.raises(ValueError, match="table"):
        PerceptualQuantizer(table=table).fit(np.zeros((2, 4)))


def test_quality_out_of_range_is_refused():
    with pytest.raises(
        ValueError, match=r"'quality' parameter .* range \[1, 100\] or None. Got 0"
    ):
        PerceptualQuantizer(quality=0).fit(np.zeros((2, 64)))


def test_symbols_that_overflow_int32_are_refused():
    with pytest.raises(ValueError, match="beyond int32 symbols"):
        PerceptualQuantizer(table=1e-9).fit(np.full((1, 4), 1e6))


def test_inverse_of_wrong_shape_is_refused():
    q = PerceptualQuantizer(table=1.0).fit(np.zeros((2, 4)))
    with pytest.raises(
        ValueError, match=r"expects symbols of shape \(n_samples, 4\); got \(2, 5\)"
    ):
        q.inverse_transform(np.zeros((2, 5), dtype=int))


# -- JPEG 2000 deadzone (Part 1, Annex E.1) ----------------------------------


def test_deadzone_quantizes_toward_zero_with_a_double_width_zero_bin():
    q = PerceptualQuantizer(table=2.0, deadzone=0.5).fit(np.zeros((1, 8)))
    G = np.array([[1.9, -1.9, 2.0, -2.0, 3.9, -5.2, 0.0, 7.99]])
    np.testing.assert_array_equal(q.transform(G), [[0, 0, 1, -1, 1, -2, 0, 3]])
    np.testing.assert_array_equal(q.transform(G), np.sign(G) * np.floor(np.abs(G) / 2.0))


@pytest.mark.parametrize("r", [0.0, 0.375, 0.5, 0.9])
def test_deadzone_dequantizes_with_the_reconstruction_offset(r):
    q = PerceptualQuantizer(table=[2.0, 4.0], deadzone=r).fit(np.zeros((1, 4)))
    B = np.array([[0, 0, 3, -3], [1, -1, 0, 2]])
    expected = np.array(
        [[0, 0, (3 + r) * 2, -(3 + r) * 4], [(1 + r) * 2, -(1 + r) * 4, 0, (2 + r) * 4]]
    )
    np.testing.assert_allclose(q.inverse_transform(B), expected)


def test_default_is_rounding_not_deadzone():
    G = np.array([[1.2, -1.2, 0.6]])
    assert PerceptualQuantizer(table=1.0).fit(G).transform(G).tolist() == [[1, -1, 1]]
    assert PerceptualQuantizer(table=1.0, deadzone=0.5).fit(G).transform(G).tolist() == [
        [1, -1, 0]
    ]


@settings(max_examples=50, deadline=None)
@given(
    G=hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 4), st.sampled_from([64, 128])),
        elements=st.floats(-2000, 2000),
    ),
    quality=st.integers(1, 100),
    r=st.floats(0, 1, exclude_max=True),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_deadzone_error_is_bounded_by_the_step(G, quality, r, dtype):
    G = G.astype(dtype)
    q = PerceptualQuantizer(quality=quality, deadzone=r).fit(G)
    B = q.transform(G)
    back = q.inverse_transform(B)
    assert back.dtype == dtype
    steps = np.tile(q.steps_, G.shape[1] // 64)
    slack = steps * 1e-6 + 1e-3
    # zero bin (-Q, Q): error < Q; other bins [|B| Q, (|B| + 1) Q): max(r, 1 - r) Q
    bound = np.where(B == 0, steps, max(r, 1 - r) * steps)
    assert np.all(np.abs(back - G) <= bound + slack)


def test_deadzone_zeroes_more_coefficients_and_costs_fewer_bits():
    X = np.random.default_rng(4).normal(128, 40, (40, 32, 32)).clip(0, 255)
    G = BlockDCT().fit_transform(X)
    rounding = PerceptualQuantizer(quality=50).fit(G)
    deadzone = PerceptualQuantizer(quality=50, deadzone=0.375).fit(G)
    assert (deadzone.transform(G) == 0).mean() > (rounding.transform(G) == 0).mean()
    assert deadzone.bits_per_sample(G) < rounding.bits_per_sample(G)


@pytest.mark.parametrize("r", [1.0, -0.1, 1.5])
def test_deadzone_offset_out_of_range_is_refused(r):
    with pytest.raises(
        ValueError,
        match=rf"'deadzone' parameter of PerceptualQuantizer must be a float in the range "
        rf"\[0.0, 1.0\) or None. Got {r}",
    ):
        PerceptualQuantizer(table=1.0, deadzone=r).fit(np.zeros((2, 4)))
