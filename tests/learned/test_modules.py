"""The torch modules: GDN's formula, the factorized density, shapes of the transforms."""

import numpy as np
import pytest
import torch

from skcompress.learned import GDN, BalleNet, EntropyBottleneck, SoundStreamNet


def test_gdn_matches_its_formula_and_inverse_multiplies():
    torch.manual_seed(0)
    gdn = GDN(3)
    with torch.no_grad():
        gdn.gamma_param.uniform_(0.1, 0.6)
        gdn.beta_param.uniform_(0.5, 1.5)
    x = torch.randn(2, 3, 4, 5)
    beta = gdn.beta_param.detach() ** 2 + gdn.beta_min
    gamma = gdn.gamma_param.detach() ** 2
    norm = beta[None, :, None, None] + torch.einsum("ij,njhw->nihw", gamma, x**2)
    torch.testing.assert_close(gdn(x), x / norm.sqrt())
    inverse = GDN(3, inverse=True)
    inverse.load_state_dict(gdn.state_dict())
    torch.testing.assert_close(inverse(x), x * norm.sqrt())
    assert GDN(2, ndim=1)(torch.randn(1, 2, 7)).shape == (1, 2, 7)


def test_entropy_bottleneck_is_a_distribution_over_the_integers():
    torch.manual_seed(0)
    eb = EntropyBottleneck(3, init_scale=4.0).eval()
    with torch.no_grad():
        for bias in eb.biases:
            bias.normal_()
    low, pmf = eb.integer_pmf()
    assert np.allclose(pmf.sum(axis=1), 1)
    # the tabulated mass is the likelihood of the integers, channel by channel
    values = torch.arange(-30, 31, dtype=torch.float32)
    y = values.reshape(-1, 1, 1, 1).expand(-1, 3, 1, 1).contiguous()
    with torch.no_grad():
        likelihood = eb.likelihood(y)[:, :, 0, 0].numpy()
    assert np.all(likelihood.sum(axis=0) > 0.99)
    for c in range(3):
        index = np.arange(len(values)) - 30 - low[c]
        inside = (index >= 0) & (index < pmf.shape[1])
        assert np.allclose(pmf[c, index[inside]], likelihood[inside, c], atol=1e-5)
    # training adds uniform noise; evaluation rounds
    y = torch.full((1, 3, 2, 2), 0.3)
    assert torch.equal(eb(y)[0], torch.zeros_like(y))
    eb.train()
    noisy = eb(y)[0]
    assert not torch.equal(noisy, y) and bool(((noisy - y).abs() <= 0.5).all())


@pytest.mark.parametrize("ndim", [1, 2])
def test_balle_net_shapes(ndim):
    net = BalleNet(2, n_filters=4, n_latents=3, n_layers=3, kernel_size=5, ndim=ndim)
    spatial = (16, 24)[:ndim]
    x_hat, likelihood = net(torch.zeros(1, 2, *spatial))
    assert x_hat.shape == (1, 2, *spatial)
    assert likelihood.shape == (1, 3, *[s // 8 for s in spatial])


def test_soundstream_net_quantizer_dropout_picks_stage_counts():
    torch.manual_seed(0)
    net = SoundStreamNet(2, (2, 2), 3)
    net.set_codebooks(np.random.default_rng(0).normal(size=(3, 4, 3)).astype(np.float32))
    z = torch.randn(6, 3, 5)
    full = net.eval().quantize(z)
    first = net.quantize(z, n_stages=1)
    assert full.shape == first.shape == z.shape
    # more stages never code worse (greedy residual quantization)
    assert float(((z - full) ** 2).sum()) <= float(((z - first) ** 2).sum())
    partial = [net.quantize(z, n_stages=k) for k in (1, 2, 3)]
    net.train()
    dropped = net.quantize(z)
    for i in range(len(z)):
        assert any(torch.equal(dropped[i], p[i]) for p in partial)


def test_warmup_cosine_schedule_and_its_use(rgb):
    from skcompress.learned import BalleCodec
    from skcompress.learned._base import WarmupCosine

    schedule = WarmupCosine(total_steps=100).initialize()
    factors = np.array([schedule.factor(t) for t in range(101)])
    assert factors[0] == pytest.approx(0.2) and factors[4] == pytest.approx(1.0, abs=0.01)
    assert factors[50] == pytest.approx(0.5, abs=0.01) and factors[99] < 0.01
    assert factors[100] == 1.0  # past the fit: partial_fit at the base rate
    codec = BalleCodec(
        n_filters=4,
        n_latents=2,
        n_layers=2,
        kernel_size=3,
        max_epochs=2,
        batch_size=4,
        lr_schedule="cosine",
        device="cpu",
        n_threads=1,
        random_state=0,
    ).fit(rgb)
    lrs = [g["lr"] for g in codec.net_.optimizer_.param_groups]
    assert lrs[0] == pytest.approx(10 * lrs[1])  # the densities learn 10x faster
    schedule = dict(codec.net_.callbacks_)["lr_schedule"]
    assert schedule.step_ == 4 and schedule.total_steps == 4
