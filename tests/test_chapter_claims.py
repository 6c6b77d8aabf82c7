"""The claims the prose of the chapter notebooks makes, checked against what the library computes.

Each test pins one sentence a student reads; if the library changes so the sentence turns false,
the test says which notebook to fix. The claims ledger (``tests/claims_ledger.csv``, issue 19) lists
every number the prose states, with how it is checked: *computed* rows name a test below, which
reads the stated figure from the ledger and compares it with what the library computes; *cited*
rows name their source (paper, section/table/figure). Rows that share a topic (batch norm and
weight scale, stride and cost, model sizes, ...) share one check, so two notebooks cannot disagree.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.data import load_digits_tensors, loaders
from cnncourse.functional import conv2d, conv_output_shape, corr2d, corr2d_fast, pool2d
from cnncourse.images import stripes
from cnncourse.layers import Conv2D
from cnncourse.models import (
    AlexNet,
    GoogLeNet,
    LeNet,
    NiN,
    ResNeXtBlock,
    layer_costs,
    resnet18,
    vgg11,
)


def test_7_3_an_unpadded_5x5_convolution_loses_2_pixels_per_side():
    """7.3: each unpadded 5x5 layer removes 4 rows and 4 columns, so ten of them take 240 to 200."""
    assert conv_output_shape(240, 5) == (236, 236)
    size = (240, 240)
    for _ in range(10):
        size = conv_output_shape(size, kernel_size=5)
    assert size == (200, 200)


@pytest.fixture(scope="module")
def costs() -> dict[str, list]:
    with torch.device("meta"):  # shapes only
        nets = {"AlexNet": AlexNet(), "VGG-11": vgg11()}
    return {name: layer_costs(net, (1, 1, 224, 224), show=False) for name, net in nets.items()}


def test_7_3_the_first_layer_is_cheap_and_the_cost_sits_in_the_middle(costs):
    """7.3 exercise 4: VGG-11's first conv is 29 M of 7.5 G MACs, AlexNet's 34 M of 0.94 G."""
    vgg, alex = costs["VGG-11"], costs["AlexNet"]
    vgg_total, alex_total = sum(c.macs for c in vgg), sum(c.macs for c in alex)
    assert round(vgg[0].macs / 1e6) == 29 and round(vgg_total / 1e9, 2) == 7.55
    assert round(alex[0].macs / 1e6) == 34 and round(alex_total / 1e9, 2) == 0.94
    for layers, total in ((vgg, vgg_total), (alex, alex_total)):
        assert layers[0].macs / total < 0.05  # the high-resolution first layer is a small share
        top = max(range(len(layers)), key=lambda k: layers[k].macs)
        assert 0 < top < len(layers) - 3  # the most expensive layer is a middle convolution


def test_7_3_zero_padding_marks_the_border_and_the_other_paddings_do_not():
    uniform, ones = torch.ones(1, 1, 6, 6), torch.ones(1, 1, 3, 3)
    zero_padded = conv2d(uniform, ones, padding=1)[0, 0]
    assert sorted(set(zero_padded.flatten().tolist())) == [4.0, 6.0, 9.0]  # corners, edges, inside
    for mode in ("reflect", "replicate", "circular"):
        response = conv2d(F.pad(uniform, (1, 1, 1, 1), mode=mode), ones)
        assert torch.equal(response, torch.full((1, 1, 6, 6), 9.0)), mode


def test_7_5_max_pooling_keeps_the_plus_one_mark_and_drops_the_minus_one():
    """7.5: after 2x2 max pooling (stride 1) only the +1 (white to black) edge survives a shift."""
    edge_kernel = torch.tensor([[1.0, -1.0]])
    image = stripes()
    edges = corr2d(image, edge_kernel)
    shifted = corr2d(torch.roll(image, shifts=1, dims=1), edge_kernel)
    assert (edges[0] == -1).nonzero().flatten().tolist() == [5]
    pooled, pooled_shifted = pool2d(edges, (2, 2)), pool2d(shifted, (2, 2))
    assert not (pooled < 0).any() and not (pooled_shifted < 0).any()  # max(-1, 0) = 0
    assert (pooled[0] == 1).nonzero().flatten().tolist() == [0, 1]
    assert ((pooled == 1) & (pooled_shifted == 1))[0].nonzero().flatten().tolist() == [1]


def _stable_below(loss_fn, n: int) -> float:
    hessian = torch.autograd.functional.hessian(loss_fn, torch.zeros(n, dtype=torch.float64))
    return 2 / torch.linalg.eigvalsh(hessian).max().item()


def test_7_2_the_bias_halves_the_stable_learning_rate_of_the_edge_kernel():
    """7.2: lr 0.03 works for the 1x2 kernel alone but not once a bias joins it; 0.01 works for both."""
    image = stripes().double()
    target = corr2d(image, torch.tensor([[1.0, -1.0]], dtype=torch.float64))

    def loss(p: torch.Tensor) -> torch.Tensor:
        bias = p[2] if len(p) == 3 else 0.0
        return ((corr2d(image, p[:2].reshape(1, 2)) + bias - target) ** 2).sum()

    kernel_only, with_bias = _stable_below(loss, 2), _stable_below(loss, 3)
    assert 0.01 < with_bias < 0.03 < kernel_only

    def final_loss(lr: float) -> float:
        torch.manual_seed(0)
        layer = Conv2D(kernel_size=(1, 2))
        for _ in range(10):
            value = ((layer(stripes()) - target.float()) ** 2).sum()
            layer.zero_grad()
            value.backward()
            with torch.no_grad():
                for p in layer.parameters():
                    p -= lr * p.grad
        return value.item()

    assert final_loss(0.03) > 1e3 > 10 > final_loss(0.01)


def test_7_1_one_detector_slid_over_the_page_finds_the_hidden_pattern():
    """7.1: the score map's maximum marks the hidden pattern and beats the page without it."""
    generator = torch.Generator().manual_seed(0)
    pattern = torch.tensor([[1.0, -1.0, 1.0], [-1.0, 1.0, -1.0], [1.0, 1.0, 1.0]])
    crowd = 0.6 * torch.randn(40, 60, generator=generator)
    for top, left in [(0, 0), (20, 33), (37, 57)]:
        page = crowd.clone()
        page[top:top + 3, left:left + 3] += 2 * pattern
        scores = corr2d_fast(page, pattern)
        assert divmod(int(scores.argmax()), scores.shape[1]) == (top, left)
        assert scores.max() > 1.3 * corr2d_fast(crowd, pattern).max()


# --------------------------------------------------------------------------------------------
# The claims ledger (issue 19): every number a notebook's prose states, and the comparisons and
# attributions read with them, one row each in tests/claims_ledger.csv.
# --------------------------------------------------------------------------------------------

LEDGER_PATH = Path(__file__).with_name("claims_ledger.csv")
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
KINDS = ("computed", "cited")

# A number: digits with optional thousands commas and decimals, optionally raised to a power
# (10^9, 2^{29}); not part of a word or a name (conv1, ps4, VGG-11, 4a), not a dimension (4-D).
NUMBER = re.compile(r"(?<![\w.\\^_{])(?<![A-Za-z]-)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?"
                    r"(?:\s*\^\s*\{?(-?\d+)\}?)?(?![\w(])(?!-D\b)")
CODE_NUMBER = re.compile(r"(?<![\w.])(\d[\d_]*(?:\.\d+)?(?:[eE]-?\d+)?)")
REFERENCE = re.compile(
    r"\b(?:Sections?|Chapters?|Exercises?|exercise|Parts?|part|Tables?|Figures?|Fig\.|problem set|ps)"
    r"\s*\d+(?:\.\d+)?(?:\s*\(\w\))?(?:(?:\s*(?:,|and|to|-|–|or)\s*)\d+(?:\.\d+)?(?:\s*\(\w\))?)*")
SECTION_IN_PARENS = re.compile(r"\([78]\.[1-6](?:\s*(?:-|–|to)\s*[78]\.[1-6])?\)")
BARE_RANGE = re.compile(r"\b[78]\.[1-6]\s*(?:to|-|–)\s*[78]\.[1-6]\b")
LABEL = re.compile(r"\*\*(?:Exercise\s+)?\d+(?:\s*\([a-z]\))?[.:]?[^*\n]*\*\*|\b\d\([a-z]\)|\(\d\)"
                   r"|^\|\s*[78]\.[1-6]\s*\|", re.M)
LIST_MARKER = re.compile(r"^\s*(?:[-*]\s+)?\d+[.)]\s", re.M)
CODE_SPAN = re.compile(r"`[^`]*`")
MATH = re.compile(r"\$\$.*?\$\$|\$[^$]*\$", re.S)
# LaTeX that is not a variable: operators, spacing, text; any other command (\\Delta, \\gamma) is one
LATEX_WORD = re.compile(r"\\text\w*\{[^}]*\}|\\operatorname\{[^}]*\}"
                        r"|\\(?:times|cdot|approx|to|lfloor|rfloor|lceil|rceil|leq?|geq?|ne|c?dots|ldots|q?quad|left|right|frac|sqrt|ln|log|big[lr]?|Big[lr]?)\b")


def _blank(match: re.Match) -> str:
    return " " * len(match.group(0))


def _is_formula(span: str) -> bool:
    """A math span with a variable in it ($2\\Delta + 1$, $c_o c_i k^2$) is notation, not a claim."""
    return re.search(r"[A-Za-z]", LATEX_WORD.sub(" ", span)) is not None


def _plain(text: str) -> str:
    return " ".join(text.replace("{,}", ",").split())


def numbers_in_markdown(markdown: str) -> list[tuple[str, float]]:
    """The numbers a markdown cell states, as (token, value), under the rule of
    ``test_every_number_in_the_prose_is_in_the_ledger_or_set_in_code``."""
    text = markdown.replace("{,}", ",")
    text = "\n".join("" if line.lstrip().startswith("#") else line for line in text.splitlines())
    text = CODE_SPAN.sub(_blank, text)
    text = MATH.sub(lambda m: _blank(m) if _is_formula(m.group(0)) else m.group(0), text)
    for pattern in (LABEL, REFERENCE, SECTION_IN_PARENS, BARE_RANGE, LIST_MARKER):
        text = pattern.sub(_blank, text)
    found = []
    for m in NUMBER.finditer(text):
        base = float(m.group(1).replace(",", "") + (m.group(2) or ""))
        found.append((m.group(0).strip(), base ** int(m.group(3)) if m.group(3) else base))
    return [(token, value) for token, value in found if value not in (0.0, 1.0)]


def numbers_in_code(source: str) -> set[float]:
    """Every numeric literal of a code cell, in its source or inside its strings (printed text)."""
    return {float(m.group(1).replace("_", "")) for m in CODE_NUMBER.finditer(source)}


def _token_value(token: str) -> float:
    found = numbers_in_markdown(token) or [(token, float(token.replace(",", "")))]
    return found[0][1]


@dataclass(frozen=True)
class Claim:
    id: str
    notebook: str
    cell: int
    claim: str
    numbers: tuple[str, ...]
    kind: str
    check: str
    topic: str


def _read_ledger() -> list[Claim]:
    with LEDGER_PATH.open(newline="") as f:
        return [Claim(r["id"], r["notebook"], int(r["cell"]), r["claim"], tuple(r["numbers"].split()),
                      r["kind"], r["check"], r["topic"]) for r in csv.DictReader(f)]


LEDGER = _read_ledger()
BY_ID = {claim.id: claim for claim in LEDGER}


def _notebook_path(prefix: str) -> Path:
    return next(NOTEBOOKS.glob(prefix + "_*.ipynb"))


def _cells(prefix: str) -> list[dict]:
    return json.loads(_notebook_path(prefix).read_text())["cells"]


def stated(claim_id: str) -> list[float]:
    """The values of the numbers a ledger row states, in the order the row lists them."""
    return [_token_value(token) for token in BY_ID[claim_id].numbers]


def rounds_to(value: float, token: str, scale: float = 1.0) -> bool:
    """True when value / scale, rounded as precisely as the token is written, gives the token."""
    decimals = len(token.split(".")[1]) if "." in token else 0
    return round(value / scale, decimals) == round(_token_value(token), decimals)


def claims_checked_by(test_name: str) -> list[Claim]:
    return [claim for claim in LEDGER if claim.check == test_name]


def test_ledger_rows_point_at_real_cells_and_name_their_check():
    """Each row quotes its cell verbatim, lists only numbers its quote states, and names how it is
    checked: a computed claim names a test of this module; a cited one a source with a year and a
    locator (section, table, figure, abstract, appendix, or a file of a named library)."""
    assert len(BY_ID) == len(LEDGER), "ledger ids must be unique"
    module = globals()
    for claim in LEDGER:
        cells = _cells(claim.notebook)
        cell = cells[claim.cell]
        assert cell["cell_type"] == "markdown", f"{claim.id}: cell {claim.cell} is not markdown"
        assert _plain(claim.claim) in _plain("".join(cell["source"])), f"{claim.id}: quote not in its cell"
        quoted = [value for _, value in numbers_in_markdown(claim.claim)]
        for token in claim.numbers:
            assert _token_value(token) in quoted, f"{claim.id}: {token} is not a number of its quote"
        assert claim.kind in KINDS, claim.id
        if claim.kind == "computed":
            assert claim.check.startswith("test_") and callable(module.get(claim.check)), (
                f"{claim.id}: computed claims name a test of this module, not {claim.check!r}")
        else:
            source = claim.check
            assert re.search(r"\b(19|20)\d\d\b|\.py|documentation|Dive into Deep Learning", source), claim.id
            assert re.search(r"Section|Table|Figure|abstract|Appendix|Algorithm|\.py|documentation|"
                             r"nobelprize|Caltech-101 holds|CVPR, 'ImageNet", source), claim.id


@pytest.mark.parametrize("prefix", sorted(p.stem[:2] if p.stem.startswith("00") else p.stem[:4]
                                           for p in NOTEBOOKS.glob("*.ipynb")))
def test_every_number_in_the_prose_is_in_the_ledger_or_set_in_code(prefix):
    """Which numbers of a notebook's markdown need a ledger row?

    Every number (digits, with thousands commas, decimals or a power such as 10^9) counts, except:
    numbers in headings, in `code spans` and in math spans that contain a variable (formulas:
    their constants are notation); section, chapter, exercise, part, table, figure and problem-set
    references ("Sections 8.2-8.6", "exercise 1(c)", "(7.2)", "ps4"); exercise labels in bold and
    enumerations "(1)", "2(a)"; list markers; numbers that are part of a name ("VGG-11", "conv3",
    "4-D"); and the values 0 and 1. A counted number passes when a code cell above the markdown
    cell, or the code cell right after it (the one the prose introduces), holds the same value as
    a literal (a hyperparameter set in code, or text the cell prints), or when a ledger row for that
    cell lists it. Everything else fails: give it a row, print it from code, or remove it.
    """
    cells = _cells(prefix)
    ledgered: dict[int, list[float]] = {}
    for claim in LEDGER:
        if claim.notebook == prefix:
            ledgered.setdefault(claim.cell, []).extend(_token_value(t) for t in claim.numbers)
    missing = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        code: set[float] = set()
        following = [j for j in range(i + 1, len(cells)) if cells[j]["cell_type"] == "code"][:1]
        for j in [j for j in range(i) if cells[j]["cell_type"] == "code"] + following:
            code |= numbers_in_code("".join(cells[j]["source"]))
        for token, value in numbers_in_markdown("".join(cell["source"])):
            if value not in code and value not in ledgered.get(i, []):
                missing.append(f"cell {i}: {token}")
    assert not missing, f"{prefix}: numbers neither in tests/claims_ledger.csv nor set in code: {missing}"


def test_the_number_rule_skips_references_labels_names_and_formulas():
    text = ("## 8.1 AlexNet\n**Exercise 2 (chip design).** Sections 8.2-8.6 and exercise 1(c), (7.2), ps4,\n"
            "VGG-11, conv3, a 4-D kernel, $(2\\Delta+1)^2$ weights, `lr=0.05`, (2) then 2(a).\n"
            "1. first item\nBut 46.8 million, $10^9$ weights and 61{,}706 parameters count.")
    assert numbers_in_markdown(text) == [("46.8", 46.8), ("10^9", 1e9), ("61,706", 61706.0)]
    assert numbers_in_code("lr = 3e-2; print(f'{n:,} = 6400 * 4096')") == {3e-2, 6400.0, 4096.0}


def test_topics_two_notebooks_speak_of_are_covered_by_one_check():
    """Contradictions between notebooks are errors: rows sharing a topic share one check."""
    topics: dict[str, list[Claim]] = {}
    for claim in LEDGER:
        if claim.topic:
            topics.setdefault(claim.topic, []).append(claim)
    for topic, rows in topics.items():
        ids = [row.id for row in rows]
        assert len({row.check for row in rows}) == 1, f"topic {topic}: one check must cover {ids}"
    for topic in ("bn-weight-scale", "stride-cost", "vgg-alexnet-sizes", "macs-per-byte", "stacked-kernels"):
        assert len(topics[topic]) >= 2, topic
    for topic in ("bn-weight-scale", "vgg-alexnet-sizes", "stacked-kernels", "quick-subset"):
        assert len({row.notebook for row in topics[topic]}) >= 2, topic


# ---- computed claims: each test reads the figures from the ledger and computes them ----------

def _params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def _macs(net: nn.Module, size: int, channels: int = 1) -> int:
    return sum(r.macs for r in layer_costs(net, (1, channels, size, size), show=False))


def _meta(build):
    with torch.device("meta"):
        return build()


def test_quick_mode_trains_on_at_most_the_stated_number_of_images(monkeypatch):
    """Every notebook's "at most 2,048" is the subset the loader asks for in quick mode."""
    asked = []

    def spy(name, batch_size, resize=None, *, subset=None, **kwargs):
        asked.append(subset)
        raise FileNotFoundError("spy")  # stops before loading anything

    monkeypatch.setattr(loaders, "load_data", spy)
    monkeypatch.setattr(loaders, "fashion_mnist_cached", lambda: False)
    with pytest.raises(FileNotFoundError):
        loaders.load_course_data(32, quick=True)
    for claim in claims_checked_by("test_quick_mode_trains_on_at_most_the_stated_number_of_images"):
        assert stated(claim.id) == [float(asked[0][0])], claim.id


def test_00_the_offline_digits_have_the_stated_size():
    X_train, _, X_val, _ = load_digits_tensors()
    count, side, _ = stated("00-c6-1")
    assert len(X_train) + len(X_val) == count and X_train.shape[-2:] == (side, side)


def test_7_1_parameter_bills_of_dense_and_convolutional_layers():
    pixels, hidden = 10**3 * 10**3, 10**3
    assert stated("07_1-c2-1") == [10**3, 10**3] and stated("07_1-c2-2") == [pixels, hidden, pixels * hidden]
    assert stated("07_1-c4-1") == [nn.Conv2d(1, 1, 3, bias=False).weight.numel()]
    nine, k, _, full, side, _ = stated("07_1-c11-1")
    assert nine == k * k == nn.Conv2d(1, 1, 3, bias=False).weight.numel() and full == side * side == pixels**2


def test_7_2_worked_example_and_stripes_have_the_stated_shapes():
    assert stated("07_2-c0-1") == [3, 3]
    assert stated("07_2-c7-1") == list(map(float, stripes().shape))


def test_7_3_shapes_sizes_and_audio_rates():
    assert stated("07_3-c2-1") == [240 - conv_output_shape(240, 5)[0]]
    assert conv_output_shape(7, 3, 2) == (3, 3) and conv_output_shape(7, 3, 2, 1) == (4, 4)  # the 7x7 example
    rate, half = stated("07_3-c23-1")
    assert rate / 2 == half and rounds_to(half / 2, stated_token("07_3-c23-2", 1))


def stated_token(claim_id: str, k: int) -> str:
    return BY_ID[claim_id].numbers[k]


def test_stride_s_divides_the_work_by_s_squared():
    """7.3 (cells 17, 25 and the summary): the work of a stride-s layer is about 1/s^2, not 1/s."""
    work = {s: layer_costs(nn.Conv2d(16, 32, 3, padding=1, stride=s), (1, 16, 64, 64), show=False)[0].macs
            for s in (1, 2, 4)}
    for s in (2, 4):
        assert work[1] / work[s] == s * s


def test_7_4_channel_examples_and_layer_costs():
    X = torch.stack([torch.arange(9.0).reshape(3, 3), torch.arange(1.0, 10.0).reshape(3, 3)])
    K = torch.stack([torch.arange(4.0).reshape(2, 2), torch.arange(1.0, 5.0).reshape(2, 2)])
    assert corr2d(X[0], K[0]).flatten().tolist() == stated("07_4-c4-1")
    assert corr2d(X[1], K[1])[0, 0].item() == stated("07_4-c4-2")[0]
    assert stated("07_4-c19-1") == [2 * nn.Conv2d(1, 1, 2, bias=False).weight.numel()]
    layer = nn.Conv2d(64, 128, 3, padding=1)
    params, _ = stated("07_4-c30-1")
    assert _params(layer) == params
    macs = layer_costs(layer, (1, 64, 56, 56), show=False)[0].macs
    assert rounds_to(macs, stated_token("07_4-c30-1", 1), 1e9)


def test_7_4_float64_is_2_to_the_29_times_finer():
    ratio = torch.finfo(torch.float32).eps / torch.finfo(torch.float64).eps
    power, mantissa, exponent = stated("07_4-c25-2")
    assert ratio == power and rounds_to(ratio, stated_token("07_4-c25-2", 1), exponent)


def test_7_5_pooling_examples():
    grid = torch.arange(16.0).reshape(1, 1, 4, 4)
    assert stated("07_5-c6-1") == [grid.max().item()]
    assert stated("07_5-c6-2") == [nn.MaxPool2d(3)(grid).item()]


def test_7_6_lenet_shapes_counts_receptive_field_and_steps():
    model = LeNet()
    convs = [m for m in model if isinstance(m, nn.Conv2d)]
    dense = [m for m in model if isinstance(m, nn.Linear)]
    assert stated("07_6-c2-1") == [c.out_channels for c in convs]
    assert stated("07_6-c2-4") == [d.out_features for d in dense]
    assert stated("07_6-c2-3") == [convs[1].out_channels, dense[0].in_features]
    counts = [_params(m) for m in convs + dense]
    assert [stated(f"07_6-c7-{k}")[0] for k in range(1, 6)] == counts
    assert stated("07_6-c5-1") == [14, 14, 10] == [28 / 2, 28 / 2, conv_output_shape(14, 5)[0]]
    # the receptive field of one second-layer unit, found with autograd
    image = torch.zeros(1, 1, 28, 28, requires_grad=True)
    nn.Sequential(*list(model)[:5])(image)[0, 0, 5, 5].backward()
    rows = image.grad[0, 0].abs().sum(dim=1).nonzero()
    assert stated("07_6-c21-1") == [len(rows)] * 2
    steps = math.ceil(stated("07_6-c9-1")[0] / 128) * 10  # the book's batch size and epochs
    assert round(steps, -2) == stated("07_6-c9-1")[1]  # "about 4,700 steps"
    for claim_id in ("07_6-c9-2", "07_6-c15-1", "07_6-c23-1", "07_6-c30-1"):
        assert rounds_to(math.log(10), BY_ID[claim_id].numbers[0]), claim_id
    grid = stated("07_6-c24-1") + [0.1]
    assert all(round(b / a) == 3 for a, b in zip(sorted(grid), sorted(grid)[1:], strict=False))


def test_8_1_alexnet_shapes_counts_and_costs():
    alexnet = _meta(AlexNet)
    params = _params(alexnet)
    assert stated("08_1-c0-2") == [params]
    for claim_id in ("08_1-c38-1",):
        assert rounds_to(params, stated_token(claim_id, 0), 1e6)
    costs = layer_costs(alexnet, (1, 1, 224, 224), show=False)
    assert rounds_to(costs[5].params, stated_token("08_1-c38-2", 0), 1e6)
    assert rounds_to(sum(c.macs for c in costs), stated_token("08_1-c38-2", 1), 1e9)
    convs = [m for m in alexnet if isinstance(m, nn.Conv2d)]
    assert stated("08_1-c3-2")[1:] == [c.out_channels for c in convs][1:]
    assert stated("08_1-c3-3") == list(map(float, convs[0].kernel_size)) and convs[0].stride == (4, 4)
    assert stated("08_1-c3-4") == [m.p for m in alexnet if isinstance(m, nn.Dropout)][:1]
    shapes = [tuple(s) for _, s in _shapes(alexnet, 224)]
    assert {54, 26, 12, 5} <= {s[-1] for s in shapes if len(s) == 4}
    assert stated("08_1-c13-1")[1] == 54 and stated("08_1-c15-1") == [54, 26, 384, 256]
    assert stated("08_1-c31-1") == [round(params / 1e6), round(_params(LeNet()) / 1e3)]
    assert stated("08_1-c34-1") == [65]  # the smallest input AlexNet accepts
    AlexNet(image_size=65)
    with pytest.raises(ValueError):
        AlexNet(image_size=64)
    AlexNet(image_size=96, width_divisor=2, hidden_units=int(stated("08_1-c34-2")[0]))  # exercise 5's idea
    resnet_stem = resnet18().stem if hasattr(resnet18(), "stem") else list(resnet18().children())[0]
    assert any(getattr(m, "stride", None) == (2, 2) for m in resnet_stem.modules())


def _shapes(model: nn.Module, size: int):
    shapes = []
    x = torch.zeros(1, 1, size, size, device="meta")
    for name, layer in model.named_children():
        x = layer(x)
        shapes.append((name, x.shape))
    return shapes


def test_8_1_alexnet_towards_the_papers_count():
    ours = _params(_meta(AlexNet))
    colour = _params(_meta(lambda: AlexNet(in_channels=3, num_classes=1000)))
    paper_size = _meta(lambda: AlexNet(in_channels=3, num_classes=1000, image_size=227))
    paper, ours_stated = stated("08_1-c15-3")
    assert rounds_to(ours, stated_token("08_1-c15-3", 1), 1e6)
    assert round((colour - ours) / 1e6) == 4  # "about 4 million"
    _, first_map, _ = stated("08_1-c15-4") + [0]
    x = torch.zeros(1, 3, 227, 227, device="meta")
    assert paper_size[0](x).shape[-1] == first_map
    first_dense = next(m for m in paper_size.modules() if isinstance(m, nn.Linear))
    assert first_dense.in_features == stated("08_1-c15-5")[1]
    assert paper < _params(paper_size) / 1e6 < 1.1 * paper  # "overshoots 60 million a little"


def test_8_1_arithmetic_intensity_per_weight_byte():
    """8.1 exercises 1(c) and 2 speak of the same ratio: MACs per 4-byte weight at batch 1."""
    costs = layer_costs(_meta(AlexNet), (1, 1, 224, 224), show=False)
    per_byte = [c.macs / (4 * c.params) for c in costs]
    conv, dense = per_byte[:5], per_byte[5:]
    assert all(10 <= v < 100 for v in conv[2:]) and conv[0] >= 100  # tens (conv3-5), hundreds (conv1)
    assert all(abs(v - 0.25) < 0.01 for v in dense)  # a quarter: one MAC per 4-byte weight


def test_parameter_counts_order_vgg_alexnet_googlenet_nin():
    """8.1 exercise 3, 8.2, 8.3 and 8.4 compare the same four sizes: VGG-11 is larger than AlexNet,
    GoogLeNet and NiN far smaller."""
    sizes = {name: _params(_meta(build)) for name, build in
             (("VGG-11", vgg11), ("AlexNet", AlexNet), ("GoogLeNet", GoogLeNet), ("NiN", NiN))}
    assert sizes["VGG-11"] > sizes["AlexNet"] > 5 * sizes["GoogLeNet"] > 5 * sizes["NiN"]
    macs = {name: _macs(_meta(build), 224) for name, build in (("VGG-11", vgg11), ("AlexNet", AlexNet))}
    assert round(macs["VGG-11"] / macs["AlexNet"]) == 8  # "about eight times AlexNet's arithmetic"
    assert round(sizes["AlexNet"] / sizes["NiN"]) == stated("08_3-c10-1")[0]
    narrow = _params(_meta(lambda: vgg11(width_divisor=4)))
    assert 0.8 < narrow / sizes["AlexNet"] < 1.2  # "a similar number of parameters"


def test_8_2_vgg_shapes_counts_and_costs():
    vgg = _meta(vgg11)
    params = _params(vgg)
    assert stated("08_2-c0-3") == [params]
    costs = layer_costs(vgg, (1, 1, 224, 224), show=False)
    dense_share = sum(c.params for c in costs if c.kind == "Linear") / params
    assert rounds_to(sum(c.macs for c in costs), stated_token("08_2-c33-1", 0), 1e9)
    assert rounds_to(100 * dense_share, stated_token("08_2-c33-2", 0))
    assert rounds_to(params, stated_token("08_2-c33-2", 1), 1e6)
    assert dense_share > stated("08_2-c15-2")[0] / 100
    first_dense = next(m for m in vgg.modules() if isinstance(m, nn.Linear))
    assert stated("08_2-c10-2")[0] == first_dense.in_features and round(first_dense.in_features / 6400) == 4
    assert stated("08_2-c10-1") == [112, 28, 14]
    convs = [m for m in vgg.modules() if isinstance(m, nn.Conv2d)]
    assert {m.kernel_size for m in convs} == {(3, 3)} and stated("08_2-c0-2") == [3, 3]
    conv_macs = sum(c.macs for c in costs if c.kind == "Conv2d")
    narrow = layer_costs(_meta(lambda: vgg11(width_divisor=4)), (1, 1, 224, 224), show=False)
    assert round(conv_macs / sum(c.macs for c in narrow if c.kind == "Conv2d")) == 16
    for size in (56, 84):
        vgg11(image_size=size, width_divisor=4)
    book = _macs(_meta(lambda: vgg11(width_divisor=4)), 224)
    assert book / _macs(_meta(lambda: vgg11(image_size=56, width_divisor=4)), 56) > 10
    slim_head = _params(_meta(lambda: vgg11(hidden_units=int(stated("08_2-c26-1")[0]))))
    assert slim_head < params / 3


def test_stacked_small_kernels_cannot_express_every_large_kernel():
    """7.4 exercise 1(c), 8.2 and 8.4 exercise 1(b) count the same weights: two 3x3 layers have 18
    weights per channel pair where one 5x5 has 25 (and two 2x2 have 8 where one 3x3 has 9)."""
    two_small = sum(nn.Conv2d(1, 1, 3, bias=False).weight.numel() for _ in range(2))
    assert stated("08_4-c20-4") == [two_small, nn.Conv2d(1, 1, 5, bias=False).weight.numel()]
    assert stated("07_4-c19-1")[0] < nn.Conv2d(1, 1, 3, bias=False).weight.numel()


def test_8_3_nin_counts_memory_and_padding():
    nin, alexnet = NiN(), _meta(AlexNet)
    params = _params(nin)
    alexnet_dense = sum(_params(m) for m in alexnet.modules() if isinstance(m, nn.Linear))
    assert alexnet_dense / (_params(alexnet) - params) > 0.9  # almost all of the saving
    assert rounds_to(_params(alexnet), stated_token("08_3-c26-1", 0), 1e6)
    NiN()(torch.zeros(1, 1, 67, 67))
    with pytest.raises((ValueError, RuntimeError)):
        NiN()(torch.zeros(1, 1, 66, 66))
    assert rounds_to(67 / 224, stated_token("08_3-c12-1", 0))
    block3 = [m for m in nin.modules() if isinstance(m, nn.Conv2d) and m.out_channels == 384]
    assert _params(block3[1]) == stated("08_3-c18-1")[2] and block3[0].kernel_size == (3, 3)
    # exercise 2: a 3x3 window with padding 1 on a 5x5 map
    taps = F.conv2d(F.pad(torch.ones(1, 1, 5, 5), (1, 1, 1, 1)), torch.ones(1, 1, 3, 3))[0, 0]
    corner_padding, total_padding = 9 - taps[0, 0].item(), 9 * 25 - taps.sum().item()
    assert corner_padding == 5 and [9, total_padding, 9 * 25] == stated("08_3-c19-2")
    assert stated("08_3-c20-1") == [_params(nn.Linear(250, 10))]
    flat, hidden, millions = stated("08_3-c20-3")
    assert flat == 384 * 5 * 5 and round(flat * hidden / 1e6) == millions
    first_block = 96 * 54 * 54
    floats, megabytes = stated("08_3-c23-1")
    assert floats == first_block and round(128 * 3 * first_block * 4 / 1e6, -1) == megabytes
    assert round(megabytes * 1e6 / (4 * params), -1) == 50  # "some fifty times"


def test_8_4_googlenet_paths_shapes_and_costs():
    net = GoogLeNet()
    blocks = [m for m in net.modules() if type(m).__name__ == "Inception"]
    kernels = {m.kernel_size for b in blocks for m in b.modules() if isinstance(m, (nn.Conv2d, nn.MaxPool2d))}
    assert {(1, 1), (3, 3), (5, 5), 3} >= kernels
    first = blocks[0]
    assert first.out_channels == 256 and stated("08_4-c0-3") == [64, 256]
    assert stated("08_4-c8-1")[1] == _params(nn.Conv2d(192, 32, 5, bias=False))
    reduced = _params(nn.Conv2d(192, 16, 1, bias=False)) + _params(nn.Conv2d(16, 32, 5, bias=False))
    assert round(stated("08_4-c8-1")[1] / reduced) == 10
    sides = [s[-1] for _, s in _shapes(_meta(GoogLeNet), 96)]
    assert stated("08_4-c12-1")[:5] == [48, 24, 12, 6, 3] and 3 in sides
    widths = [(b.path1[0].out_channels, b.path2[2].out_channels) for b in blocks]
    assert all(c3 >= c1 for c1, c3 in widths) and widths[-1][0] == widths[-1][1]
    params = _params(net)
    assert round(params / 1e6) == stated("08_4-c31-1")[1] == stated("08_4-c12-2")[0]
    assert net(torch.zeros(1, 1, 1, 1)).shape == (1, 10)  # exercise 2: it runs even on 1x1
    macs = {size: _macs(_meta(GoogLeNet), size) for size in (224,)}
    alex = _meta(AlexNet)
    assert rounds_to(macs[224] / _macs(alex, 224), stated_token("08_4-c30-1", 0))
    assert round(_params(alex) / params) == 8  # "roughly an eighth of its parameters"
    assert rounds_to((96 / 28) ** 2, "12")
    native = _meta(lambda: nn.Sequential(nn.Conv2d(1, 64, kernel_size=3, padding=1), nn.ReLU(),
                                         *list(GoogLeNet())[1:]))
    assert _macs(native, 28) > _macs(_meta(GoogLeNet), 96)  # the native variant costs more, not 12x less
    shares = {name: sum(c.params for c in layer_costs(_meta(build), (1, 1, 224, 224), show=False)
                        if c.kind == "Linear") / _params(_meta(build)) for name, build in
              (("AlexNet", AlexNet), ("VGG-11", vgg11))}
    assert sorted(round(100 * v) for v in shares.values()) == stated("08_4-c29-1")


def test_batch_norm_output_ignores_the_scale_of_the_weights_below():
    """8.5 (exercise 2, the comparison run) and 8.6 (the residual block) rest on one fact: in training
    mode, batch norm after a convolution gives the same output whatever the scale of its weights, so
    small weights cannot make a residual branch that ends in batch norm small; a zero gamma does."""
    torch.manual_seed(0)
    conv, norm = nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4)
    X = torch.randn(8, 3, 6, 6)
    out = norm(conv(X))
    with torch.no_grad():
        conv.weight.mul_(0.1)  # ten times smaller weights
    torch.testing.assert_close(norm(conv(X)), out, atol=1e-2, rtol=1e-2)  # up to eps
    assert out.std() > 0.5  # unit scale, not small
    with torch.no_grad():
        norm.weight.zero_()
        norm.bias.zero_()
    assert norm(conv(X)).abs().max() == 0


def test_8_5_a_channel_scaled_by_a_tenth_has_variance_near_a_hundredth():
    torch.manual_seed(0)
    channel = 0.1 * torch.randn(8, 4, 4, dtype=torch.float64)
    assert rounds_to(channel.var(unbiased=False).item(), stated_token("08_5-c7-1", 0))


def test_8_6_resnet_counts_and_bottlenecks():
    net = resnet18()
    assert stated("08_6-c0-3") == [_params(net)]
    main = [m for m in net.modules() if isinstance(m, nn.Conv2d) and m.kernel_size != (1, 1)]
    dense = [m for m in net.modules() if isinstance(m, nn.Linear)]
    assert stated("08_6-c11-2") == [len(main)] and len(main) + len(dense) == 18
    assert main[0].kernel_size == (7, 7) and main[0].stride == (2, 2)
    bottleneck = 2 * 256 * 64 + 9 * 64**2
    assert round(bottleneck, -4) == stated("08_6-c34-1")[1]
    assert rounds_to(2 * 9 * 256**2, stated_token("08_6-c34-2", 1), 1e6)
    resnet_block = _params(ResNeXtBlock(256, 1, 0.25))
    resnext_block = _params(ResNeXtBlock(256, 32, 0.5))
    assert abs(resnext_block / resnet_block - 1) < 0.05  # "at about the same cost"
