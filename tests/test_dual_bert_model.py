"""The Dual BERT model (rayqa.models.dual_bert.DualBert): lambda, the loss, Table 4's
ablations, training, saving and padding, on a tiny BERT built on the fly (CPU, offline)."""

import pytest
import torch
import torch.nn.functional as F
from transformers import AutoModel, BertTokenizerFast

from rayqa.models.dual_bert import (
    HEADS_FILE,
    MASKED_LOGIT,
    OPTIONS_FILE,
    DualBert,
    DualBertOptions,
    dual_bert_loss,
    dynamic_lambda,
    span_representation,
)
from rayqa.testing.tiny import build_tiny_reader

# float32 model outputs computed two ways (batched vs by hand, padded vs alone) differ
# by summation order only.
TOL32 = {"atol": 1e-5, "rtol": 1e-4}
TOL64 = {"atol": 1e-10, "rtol": 1e-9}

# (target question, target passage, target answer, source question, source passage,
# source answer): German targets with their English translations.
EXAMPLES = [
    ("Wo wohnt Anna?", "Anna wohnt in Berlin und arbeitet in Hamburg.", "Berlin",
     "Where does Anna live?", "Anna lives in Berlin and works in Hamburg.", "Berlin"),
    ("Was trinkt Tom gern?", "Tom trinkt gern kalten Tee am Morgen.", "kalten Tee",
     "What does Tom like to drink?", "Tom likes to drink cold tea in the morning.",
     "cold tea"),
    ("Wann beginnt das Konzert?",
     "Das grosse Konzert im alten Theater der Stadt beginnt heute um acht Uhr abends, "
     "sagt Maria, und es dauert bis Mitternacht.", "um acht Uhr abends",
     "When does the concert start?",
     "The big concert in the old theatre of the city starts today at eight in the "
     "evening, says Maria, and it lasts until midnight.", "at eight in the evening"),
]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    texts = [text for example in EXAMPLES for text in example]
    return build_tiny_reader(texts, tmp_path_factory.mktemp("tiny_dual_bert"), vocab_size=300,
                             hidden=32, layers=1, heads=2, intermediate=64)


@pytest.fixture(scope="module")
def tokenizer(tiny_dir):
    return BertTokenizerFast.from_pretrained(str(tiny_dir))


def _model(tiny_dir, seed=0, **options):
    torch.manual_seed(seed)
    return DualBert.from_pretrained(tiny_dir, DualBertOptions(**options))


def _side(tokenizer, questions, passages, answers, prefix):
    """Padded features of one side with the gold span's token positions."""
    enc = tokenizer(questions, passages, padding=True, return_offsets_mapping=True,
                    return_tensors="pt")
    starts, ends = [], []
    for i, (passage, answer) in enumerate(zip(passages, answers)):
        char_start = passage.index(answer)
        char_end = char_start + len(answer)
        tokens = [
            t for t, (seq, (a, b)) in enumerate(zip(enc.sequence_ids(i), enc["offset_mapping"][i].tolist()))
            if seq == 1 and a < char_end and b > char_start
        ]
        starts.append(tokens[0])
        ends.append(tokens[-1])
    features = {prefix + k: enc[k] for k in ("input_ids", "attention_mask", "token_type_ids")}
    features[prefix + "start_positions"] = torch.tensor(starts)
    features[prefix + "end_positions"] = torch.tensor(ends)
    return features


def _batch(tokenizer, indices, has_span=None, labels=True):
    rows = [EXAMPLES[i] for i in indices]
    batch = _side(tokenizer, *zip(*[r[:3] for r in rows]), prefix="")
    batch.update(_side(tokenizer, *zip(*[r[3:] for r in rows]), prefix="source_"))
    batch["both_have_span"] = torch.tensor(
        [True] * len(rows) if has_span is None else has_span
    )
    if not labels:
        batch = {k: v for k, v in batch.items() if "positions" not in k and "has_span" not in k}
    return batch


def _ce(start_logits, end_logits, start, end):
    """Per-example BERT QA loss written out: mean of start and end cross-entropies."""
    return (F.cross_entropy(start_logits, start, reduction="none")
            + F.cross_entropy(end_logits, end, reduction="none")) / 2


def _span_rep_by_hand(hidden, start, end):
    """H~ of one example, [L, h]: [B_start ; B_end ; mean(softmax(S S^T) S)], S the span."""
    span = hidden[start:end + 1]
    attended = torch.softmax(span @ span.T, dim=-1) @ span
    return torch.cat([hidden[start], hidden[end], attended.mean(0)])


# lambda and the loss, on hand-made tensors


def test_lambda_is_zero_for_opposed_spans_and_the_cosine_otherwise():
    span_target = torch.tensor([[1.0, 2.0, 0.0, 1.0], [1.0, 2.0, 0.0, 1.0],
                                [1.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    span_source = torch.tensor([[-1.0, -1.0, 1.0, 0.0], [2.0, 1.0, 1.0, -1.0],
                                [0.0, 3.0, 0.0, 0.0]], dtype=torch.float64)
    got = dynamic_lambda(span_source, span_target)
    # Row 0: cos = -3 / (sqrt(6) sqrt(3)) < 0 -> 0. Row 1: 3 / (sqrt(6) sqrt(7)).
    # Row 2: orthogonal -> 0.
    want = torch.tensor([0.0, 3 / (6 ** 0.5 * 7 ** 0.5), 0.0], dtype=torch.float64)
    torch.testing.assert_close(got, want, **TOL64)
    # Any pointing-apart pair: negative cosine.
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(5, 12, generator=generator)
    assert torch.all(dynamic_lambda(-a + 0.01 * torch.randn(5, 12, generator=generator), a) == 0)


def test_span_representation_matches_definition_and_ignores_out_of_span():
    generator = torch.Generator().manual_seed(1)
    hidden = torch.randn(3, 9, 6, generator=generator, dtype=torch.float64)
    start, end = torch.tensor([2, 5, 0]), torch.tensor([4, 5, 8])  # lengths 3, 1, 9
    got = span_representation(hidden, start, end)
    assert got.shape == (3, 18)
    for i in range(3):
        want = _span_rep_by_hand(hidden[i], int(start[i]), int(end[i]))
        torch.testing.assert_close(got[i], want, **TOL64)
    torch.testing.assert_close(got[1, 12:], hidden[1, 5], **TOL64)  # one token: B_att = B_s
    # Tokens outside the span do not matter, even huge ones.
    positions = torch.arange(9)
    outside = (positions < start[:, None]) | (positions > end[:, None])
    noise = torch.randn(hidden.shape, generator=generator, dtype=torch.float64) * 1e3
    torch.testing.assert_close(
        span_representation(torch.where(outside[..., None], noise, hidden), start, end),
        got, **TOL64)


def _loss_inputs(seed=2):
    generator = torch.Generator().manual_seed(seed)
    target = torch.rand(3, generator=generator, dtype=torch.float64).requires_grad_()
    aux = torch.rand(3, generator=generator, dtype=torch.float64).requires_grad_()
    span_target = torch.randn(3, 6, generator=generator, dtype=torch.float64)
    # Source spans close to the target's: every cosine clearly positive.
    span_source = span_target + 0.3 * torch.randn(3, 6, generator=generator,
                                                  dtype=torch.float64)
    return target, aux, span_source.requires_grad_(), span_target.requires_grad_()


def test_detached_lambda_sends_no_gradient_to_span_representations():
    target, aux, span_source, span_target = _loss_inputs()
    has_span = torch.tensor([True, True, True])
    loss, lambdas = dual_bert_loss(target, aux, has_span, span_source, span_target)
    assert torch.all(lambdas > 0.5)
    loss.backward()
    # The span representations feed only lambda: detached, they get no gradient at all.
    assert span_source.grad is None and span_target.grad is None
    torch.testing.assert_close(aux.grad, lambdas.detach() / 3, **TOL64)
    torch.testing.assert_close(target.grad, torch.full((3,), 1 / 3, dtype=torch.float64),
                               **TOL64)


def test_lambda_not_detached_sends_gradient_to_span_representations():
    target, aux, span_source, span_target = _loss_inputs()
    has_span = torch.tensor([True, True, True])
    loss, lambdas = dual_bert_loss(target, aux, has_span, span_source, span_target,
                                   detach_lambda=False)
    loss.backward()
    assert span_source.grad is not None and span_target.grad is not None
    assert span_source.grad.abs().sum() > 0 and span_target.grad.abs().sum() > 0
    # d L / d span_source = aux_i / batch * d cos_i / d span_source.
    cos_grad = torch.autograd.grad(
        F.cosine_similarity(span_source, span_target, dim=-1).sum(), span_source)[0]
    torch.testing.assert_close(span_source.grad, cos_grad * aux.detach()[:, None] / 3,
                               **TOL64)


def test_loss_without_source_span_ignores_aux_and_lambda():
    target, aux, span_source, span_target = _loss_inputs()
    has_span = torch.tensor([True, False, True])
    aux_nan = aux.detach().clone()
    aux_nan[1] = float("nan")  # a loss from placeholder positions must not leak in
    loss, lambdas = dual_bert_loss(target, aux_nan, has_span, span_source, span_target)
    assert lambdas[1] == 0
    lam = dynamic_lambda(span_source, span_target).detach()
    want = (target.sum() + lam[0] * aux[0] + lam[2] * aux[2]) / 3
    torch.testing.assert_close(loss, want.detach(), **TOL64)


# the model on a tiny BERT


def test_full_model_loss_is_mean_of_target_plus_dynamic_lambda_times_aux(tiny_dir, tokenizer):
    model = _model(tiny_dir)
    batch = _batch(tokenizer, [0, 1, 2])
    with torch.no_grad():
        out = model(batch)
        b_t = model.encode(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
        b_s = model.encode(batch["source_input_ids"], batch["source_attention_mask"],
                           batch["source_token_type_ids"])
    assert out.start_logits.shape == batch["input_ids"].shape
    assert out.source_start_logits.shape == batch["source_input_ids"].shape
    l_t = _ce(out.start_logits, out.end_logits, batch["start_positions"], batch["end_positions"])
    l_aux = _ce(out.source_start_logits, out.source_end_logits,
                batch["source_start_positions"], batch["source_end_positions"])
    lambdas = []
    for i in range(3):
        h_t = _span_rep_by_hand(b_t[i], int(batch["start_positions"][i]),
                                int(batch["end_positions"][i]))
        h_s = _span_rep_by_hand(b_s[i], int(batch["source_start_positions"][i]),
                                int(batch["source_end_positions"][i]))
        lambdas.append(max(0.0, float(F.cosine_similarity(h_s, h_t, dim=0))))
    lambdas = torch.tensor(lambdas)
    assert torch.all(lambdas > 0)  # else this test would not test the weighting
    torch.testing.assert_close(out.lambdas, lambdas, **TOL32)
    torch.testing.assert_close(out.loss, (l_t + lambdas * l_aux).mean(), **TOL32)
    torch.testing.assert_close(out.diagnostics["target_loss"], l_t.mean(), **TOL32)
    torch.testing.assert_close(out.diagnostics["weighted_aux_loss"] + l_t.mean(), out.loss,
                               **TOL32)
    assert int(out.diagnostics["source_without_span"]) == 0
    assert int(out.diagnostics["source_with_span"]) == 3


def test_source_without_span_contributes_nothing_and_is_counted(tiny_dir, tokenizer):
    model = _model(tiny_dir)
    batch = _batch(tokenizer, [0, 1, 2], has_span=[True, False, False])
    batch["source_start_positions"][1:] = -1  # placeholders, never read
    batch["source_end_positions"][1:] = 10 ** 6
    with torch.no_grad():
        out = model(batch)
    assert torch.all(out.aux_losses[1:] == 0) and torch.all(out.lambdas[1:] == 0)
    assert out.aux_losses[0] > 0 and out.lambdas[0] > 0
    assert int(out.diagnostics["source_without_span"]) == 2
    assert int(out.diagnostics["source_with_span"]) == 1
    l_t = _ce(out.start_logits, out.end_logits, batch["start_positions"], batch["end_positions"])
    torch.testing.assert_close(out.loss, (l_t.sum() + out.lambdas[0] * out.aux_losses[0]) / 3,
                               **TOL32)
    # Example 0's own terms are those of the all-spans batch.
    full = model(_batch(tokenizer, [0, 1, 2]))
    torch.testing.assert_close(out.aux_losses[0], full.aux_losses[0], **TOL32)
    torch.testing.assert_close(out.lambdas[0], full.lambdas[0], **TOL32)


def test_model_gradient_through_lambda_follows_detach_lambda(tiny_dir, tokenizer):
    # One example, eval mode (no dropout): with lambda detached, the gradient is that of
    # a fixed lambda of the same value; kept in the graph, it differs.
    batch = _batch(tokenizer, [1])

    def grads(**options):
        model = _model(tiny_dir, **options)
        model.load_state_dict(reference.state_dict())
        model.eval()
        out = model(batch)
        out.loss.backward()
        return out, torch.cat([p.grad.flatten() for p in model.encoder.parameters()
                               if p.grad is not None])

    reference = _model(tiny_dir)
    detached, grad_detached = grads()
    lam = float(detached.lambdas[0])
    assert lam > 0
    _, grad_fixed = grads(fixed_lambda=lam)
    attached, grad_attached = grads(detach_lambda=False)
    torch.testing.assert_close(attached.loss, detached.loss, **TOL32)
    torch.testing.assert_close(grad_detached, grad_fixed, atol=1e-6, rtol=1e-4)
    assert (grad_attached - grad_detached).abs().max() > 1e-4


def test_no_auxiliary_loss_is_target_loss(tiny_dir, tokenizer):
    model = _model(tiny_dir, auxiliary_loss=False)
    assert model.source_head is None and model.saa is not None
    batch = _batch(tokenizer, [0, 1, 2])
    with torch.no_grad():
        out = model(batch)
    l_t = _ce(out.start_logits, out.end_logits, batch["start_positions"], batch["end_positions"])
    torch.testing.assert_close(out.loss, l_t.mean(), **TOL32)
    assert out.source_start_logits is None and out.lambdas is None
    # The source labels are not needed; the source inputs still are (SAA reads them).
    no_source_labels = {k: v for k, v in batch.items() if not k.startswith("source_")
                        or k in ("source_input_ids", "source_attention_mask")}
    torch.testing.assert_close(model(no_source_labels).loss, out.loss, **TOL32)


def test_fixed_lambda_weights_aux_loss_by_the_constant(tiny_dir, tokenizer):
    model = _model(tiny_dir, fixed_lambda=0.3)
    batch = _batch(tokenizer, [0, 1, 2])
    with torch.no_grad():
        out = model(batch)
    l_t = _ce(out.start_logits, out.end_logits, batch["start_positions"], batch["end_positions"])
    l_aux = _ce(out.source_start_logits, out.source_end_logits,
                batch["source_start_positions"], batch["source_end_positions"])
    torch.testing.assert_close(out.loss, l_t.mean() + 0.3 * l_aux.mean(), **TOL32)
    torch.testing.assert_close(out.lambdas, torch.full((3,), 0.3), **TOL32)


def test_no_saa_uses_equation_1_attention(tiny_dir, tokenizer):
    model = _model(tiny_dir, self_adaptive=False)
    batch = _batch(tokenizer, [0, 2], labels=False)
    with torch.no_grad():
        # BERT's initialization (std 0.02) makes every attention almost uniform and R
        # tiny; larger projections make the attention sharp and R matter.
        for layer in (model.saa.query, model.saa.key, model.saa.output):
            layer.weight.mul_(30)
        out = model(batch)
        b_t = model.encode(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
        b_s = model.encode(batch["source_input_ids"], batch["source_attention_mask"],
                           batch["source_token_type_ids"])
        saa = model.saa
        for i in range(2):
            t = b_t[i][batch["attention_mask"][i].bool()]
            s = b_s[i][batch["source_attention_mask"][i].bool()]
            q, k, v = saa.query(t), saa.key(s), saa.value(s)
            heads = [torch.softmax(q[:, c] @ k[:, c].T, dim=-1) @ v[:, c]
                     for c in (slice(0, 16), slice(16, 32))]  # 2 heads of 16
            r = saa.output(torch.cat(heads, dim=-1))
            h_t = torch.cat([t, saa.layer_norm(t + r)], dim=-1)
            logits = model.target_head(h_t)
            n = len(t)
            torch.testing.assert_close(out.start_logits[i, :n], logits[:, 0], **TOL32)
            torch.testing.assert_close(out.end_logits[i, :n], logits[:, 1], **TOL32)
        # The same weights with SAA give other logits.
        saa.self_adaptive = True
        with_saa = model(batch)
    assert (with_saa.start_logits - out.start_logits).abs().max() > 1e-4


def test_no_source_encoder_is_plain_bert_qa_without_source_inputs(tiny_dir, tokenizer):
    with pytest.raises(ValueError, match="auxiliary_loss"):
        DualBertOptions(source_encoder=False)
    model = _model(tiny_dir, source_encoder=False, auxiliary_loss=False)
    assert model.saa is None and model.source_head is None
    batch = {k: v for k, v in _batch(tokenizer, [0, 2]).items() if not k.startswith("source_")}
    with torch.no_grad():
        out = model(batch)
        b_t = model.encode(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
        logits = model.target_head(b_t)
    mask = batch["attention_mask"].bool()
    torch.testing.assert_close(out.start_logits[mask], logits[..., 0][mask], **TOL32)
    torch.testing.assert_close(out.end_logits[mask], logits[..., 1][mask], **TOL32)
    l_t = _ce(out.start_logits, out.end_logits, batch["start_positions"], batch["end_positions"])
    torch.testing.assert_close(out.loss, l_t.mean(), **TOL32)


def test_full_model_needs_source_inputs_and_labels(tiny_dir, tokenizer):
    model = _model(tiny_dir)
    batch = _batch(tokenizer, [0])
    with pytest.raises(ValueError, match="source_input_ids"):
        model({k: v for k, v in batch.items() if not k.startswith("source_")})
    with pytest.raises(ValueError, match="both_have_span"):
        model({k: v for k, v in batch.items() if k != "both_have_span"})


def test_options_validate_and_round_trip():
    options = DualBertOptions(fixed_lambda=0.5, detach_lambda=False, num_heads=4)
    assert DualBertOptions.from_dict(options.to_dict()) == options
    assert DualBertOptions().detach_lambda is True
    with pytest.raises(ValueError, match="unknown"):
        DualBertOptions.from_dict({"lambda": 1.0})
    with pytest.raises(ValueError):
        DualBertOptions(fixed_lambda=-1.0)
    with pytest.raises(ValueError):
        DualBertOptions(auxiliary_loss=False, fixed_lambda=0.5)


# training, saving, padding


def test_a_few_optimizer_steps_reduce_the_loss(tiny_dir, tokenizer):
    model = _model(tiny_dir, seed=3)
    batch = _batch(tokenizer, [0, 1])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.eval()
    with torch.no_grad():
        initial = float(model(batch).loss)
    model.train()
    for _ in range(10):
        optimizer.zero_grad()
        out = model(batch)
        out.loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        final = model(batch)
    assert float(final.loss) < 0.25 * initial, (initial, float(final.loss))
    assert torch.equal(final.start_logits.argmax(-1), batch["start_positions"])
    assert torch.equal(final.end_logits.argmax(-1), batch["end_positions"])


def test_save_and_load_give_the_same_logits(tiny_dir, tokenizer, tmp_path):
    model = _model(tiny_dir, fixed_lambda=0.7)
    with torch.no_grad():  # move the heads off their initialization
        for p in model.parameters():
            p.add_(0.01 * torch.randn_like(p))
    model.eval()
    batch = _batch(tokenizer, [0, 1, 2])
    with torch.no_grad():
        before = model(batch)
    model.save_pretrained(tmp_path / "dual")
    assert (tmp_path / "dual" / HEADS_FILE).is_file()
    assert (tmp_path / "dual" / OPTIONS_FILE).is_file()
    loaded = DualBert.from_pretrained(tmp_path / "dual")
    assert loaded.options == model.options and not loaded.training
    with torch.no_grad():
        after = loaded(batch)
    for name in ("start_logits", "end_logits", "source_start_logits", "source_end_logits",
                 "loss"):
        torch.testing.assert_close(getattr(after, name), getattr(before, name),
                                   atol=1e-6, rtol=1e-5)
    # The encoder alone loads with AutoModel.
    encoder = AutoModel.from_pretrained(str(tmp_path / "dual"))
    torch.testing.assert_close(encoder.embeddings.word_embeddings.weight,
                               model.encoder.embeddings.word_embeddings.weight)
    with pytest.raises(ValueError, match="saved with"):
        DualBert.from_pretrained(tmp_path / "dual", DualBertOptions())


def test_padding_does_not_change_target_logits(tiny_dir, tokenizer):
    model = _model(tiny_dir).eval()
    alone = _batch(tokenizer, [0])
    padded = _batch(tokenizer, [0, 2])  # example 2 is longer on both sides
    n_t, n_s = alone["input_ids"].shape[1], alone["source_input_ids"].shape[1]
    assert padded["input_ids"].shape[1] > n_t and padded["source_input_ids"].shape[1] > n_s
    with torch.no_grad():
        out_alone, out_padded = model(alone), model(padded)
    # Tolerance: float32, the padded run differs by summation order only.
    torch.testing.assert_close(out_padded.start_logits[0, :n_t], out_alone.start_logits[0],
                               **TOL32)
    torch.testing.assert_close(out_padded.end_logits[0, :n_t], out_alone.end_logits[0],
                               **TOL32)
    assert torch.all(out_padded.start_logits[0, n_t:] == MASKED_LOGIT)
    torch.testing.assert_close(out_padded.target_losses[0], out_alone.target_losses[0], **TOL32)
    torch.testing.assert_close(out_padded.aux_losses[0], out_alone.aux_losses[0], **TOL32)
    torch.testing.assert_close(out_padded.lambdas[0], out_alone.lambdas[0], **TOL32)
