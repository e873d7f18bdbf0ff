"""Self-Adaptive Attention of Dual BERT (rayqa.models.dual_bert) against a direct,
unbatched transcription of the paper's equations 1-5, with padding."""

import pytest
import torch

from rayqa.models.dual_bert import SelfAdaptiveAttention, self_adaptive_attention

# float64 throughout: the batched and the per-example computations differ only by
# summation order, so the tolerance can be tight.
TOL = {"atol": 1e-10, "rtol": 1e-9}


def _equations_1_to_5(b_t, b_s, value=None):
    """The paper's equations for one unpadded example, [L_T, h] and [L_S, h]."""
    value = b_s if value is None else value
    a_ts = b_t @ b_s.T
    a_t = torch.softmax(b_t @ b_t.T, dim=-1)
    a_s = torch.softmax(b_s @ b_s.T, dim=-1)
    a_tilde = a_t @ a_ts @ a_s.T
    return torch.softmax(a_tilde, dim=-1) @ value


def _padded_batch(generator, lengths, max_len, hidden, scattered=False):
    """Random [batch, max_len, hidden] with garbage (large values) at padded positions.

    Real tokens come first, or, with `scattered`, sit at random positions.
    """
    batch = len(lengths)
    x = torch.randn(batch, max_len, hidden, generator=generator, dtype=torch.float64) * 0.3
    mask = torch.zeros(batch, max_len, dtype=torch.bool)
    for i, length in enumerate(lengths):
        if scattered:
            positions = torch.randperm(max_len, generator=generator)[:length]
        else:
            positions = torch.arange(length)
        mask[i, positions] = True
    garbage = torch.randn(batch, max_len, hidden, generator=generator, dtype=torch.float64) * 50
    return torch.where(mask[..., None], x, garbage), mask


@pytest.mark.parametrize("scattered", [False, True])
def test_function_matches_equations_per_example(scattered):
    generator = torch.Generator().manual_seed(0)
    lengths_t, lengths_s, hidden = [7, 3, 9, 1], [5, 8, 2, 8], 6
    b_t, mask_t = _padded_batch(generator, lengths_t, 9, hidden, scattered)
    b_s, mask_s = _padded_batch(generator, lengths_s, 8, hidden, scattered)
    r_prime = self_adaptive_attention(b_t, b_s, mask_t, mask_s.long())
    assert r_prime.shape == (4, 9, hidden)
    for i in range(4):
        want = _equations_1_to_5(b_t[i][mask_t[i]], b_s[i][mask_s[i]])
        torch.testing.assert_close(r_prime[i][mask_t[i]], want, **TOL)
        assert torch.all(r_prime[i][~mask_t[i]] == 0)


def test_function_ignores_nan_and_inf_padding():
    # Padded rows are zeroed before any product, so not even nan or inf leaks through.
    generator = torch.Generator().manual_seed(4)
    b_t, mask_t = _padded_batch(generator, [3, 5], 5, 4)
    b_s, mask_s = _padded_batch(generator, [6, 2], 6, 4)
    want = self_adaptive_attention(b_t, b_s, mask_t, mask_s)
    b_t = b_t.masked_fill(~mask_t[..., None], float("inf"))
    b_s = b_s.masked_fill(~mask_s[..., None], float("nan"))
    got = self_adaptive_attention(b_t, b_s, mask_t, mask_s)
    torch.testing.assert_close(got, want, **TOL)


def test_function_without_masks_and_with_a_value():
    generator = torch.Generator().manual_seed(1)
    b_t = torch.randn(2, 4, 3, generator=generator, dtype=torch.float64)
    b_s = torch.randn(2, 6, 3, generator=generator, dtype=torch.float64)
    value = torch.randn(2, 6, 5, generator=generator, dtype=torch.float64)
    got = self_adaptive_attention(b_t, b_s)
    got_value = self_adaptive_attention(b_t, b_s, value=value)
    assert got_value.shape == (2, 4, 5)
    for i in range(2):
        torch.testing.assert_close(got[i], _equations_1_to_5(b_t[i], b_s[i]), **TOL)
        torch.testing.assert_close(
            got_value[i], _equations_1_to_5(b_t[i], b_s[i], value[i]), **TOL
        )


def test_function_rejects_mismatched_shapes():
    with pytest.raises(ValueError):
        self_adaptive_attention(torch.zeros(2, 3, 4), torch.zeros(2, 5, 6))
    with pytest.raises(ValueError):
        self_adaptive_attention(torch.zeros(2, 3, 4), torch.zeros(2, 5, 4), torch.ones(2, 4))


def test_empty_source_gives_zeros_not_nan():
    b_t = torch.randn(1, 3, 4, dtype=torch.float64, requires_grad=True)
    b_s = torch.randn(1, 2, 4, dtype=torch.float64)
    r_prime = self_adaptive_attention(b_t, b_s, mask_s=torch.zeros(1, 2))
    r_prime.sum().backward()
    assert torch.all(r_prime == 0)
    assert torch.isfinite(b_t.grad).all()


def _layer(hidden=8, heads=2):
    torch.manual_seed(0)
    return SelfAdaptiveAttention(hidden, heads).double().eval()


def test_layer_shapes_and_heads_match_per_head_equations():
    layer = _layer()
    generator = torch.Generator().manual_seed(2)
    b_t, mask_t = _padded_batch(generator, [5, 2, 6], 6, 8)
    b_s, mask_s = _padded_batch(generator, [4, 7, 1], 7, 8)
    r = layer.attend(b_t, b_s, mask_t, mask_s)
    h_t = layer(b_t, b_s, mask_t, mask_s)
    assert r.shape == (3, 6, 8)
    assert h_t.shape == (3, 6, 16)
    torch.testing.assert_close(h_t[..., :8], b_t, **TOL)
    torch.testing.assert_close(h_t[..., 8:], layer.layer_norm(b_t + r), **TOL)
    with torch.no_grad():
        for i in range(3):
            q = layer.query(b_t[i][mask_t[i]])
            k = layer.key(b_s[i][mask_s[i]])
            v = layer.value(b_s[i][mask_s[i]])
            heads = [
                _equations_1_to_5(q[:, cols], k[:, cols], v[:, cols])
                for cols in (slice(0, 4), slice(4, 8))
            ]
            want = layer.output(torch.cat(heads, dim=-1))
            torch.testing.assert_close(r[i][mask_t[i]], want, **TOL)


def test_layer_padding_does_not_change_real_rows():
    layer = _layer()
    generator = torch.Generator().manual_seed(3)
    b_t, mask_t = _padded_batch(generator, [4, 6], 6, 8)
    b_s, mask_s = _padded_batch(generator, [3, 5], 7, 8)
    before = layer(b_t, b_s, mask_t, mask_s)
    noise = torch.randn(b_s.shape, generator=generator, dtype=torch.float64) * 100
    b_s_other = torch.where(mask_s[..., None], b_s, noise)
    after = layer(b_t, b_s_other, mask_t, mask_s)
    torch.testing.assert_close(after[mask_t], before[mask_t], **TOL)
    # And against each example run alone, unpadded.
    for i in range(2):
        alone = layer(b_t[i : i + 1][:, mask_t[i]], b_s[i : i + 1][:, mask_s[i]])
        torch.testing.assert_close(before[i][mask_t[i]], alone[0], **TOL)


def test_layer_rejects_heads_not_dividing_hidden():
    with pytest.raises(ValueError, match="divide"):
        SelfAdaptiveAttention(10, 3)
