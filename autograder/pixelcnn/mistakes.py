"""The PixelCNN table: honest mistakes (each must cost its function points, with a message that names it),
correct alternatives (full marks) and forged probes (no gain over the honest baseline).

Run by ``tests/assignments/test_mistakes.py`` and ``tests/hostile/test_forged_probes.py``.
"""

from vizgen.author import Alternative, Forgery, Mistake

TORCH = "import torch\nimport torch.nn.functional as F\nfrom torch import nn\n\n\n"
# Cells after MaskedConv2d's do not import nn again: grading loads a name's last binding in notebook order, so
# a later `from torch import nn` would leave MaskedConv2d's class statement (cell before it) without nn.
LATER = "import torch\nimport torch.nn.functional as F\n\n\n"

# MaskedConv2d: {shift} 1 keeps the centre in both masks; {tail} the forward (or a mask applied once).
MASKED = TORCH + '''class MaskedConv2d(nn.Conv2d):
    def __init__(self, mask_type, in_channels, out_channels, kernel_size, **conv_kwargs):
        super().__init__(in_channels, out_channels, kernel_size, **conv_kwargs)
        k = kernel_size
        mask = torch.ones_like(self.weight)
        mask[:, :, k // 2, k // 2 + {shift}:] = 0
        mask[:, :, k // 2 + 1:] = 0
        self.register_buffer("mask", mask)
{tail}
'''
B_SHIFT = '(mask_type == "B")'
APPLIED = '''
    def forward(self, x):
        return self._conv_forward(x, self.weight * self.mask, self.bias)
'''
ONCE = '''        with torch.no_grad():
            self.weight *= self.mask  # applied once: training undoes it
'''

# PixelCNN, as the notebook specifies it; mistakes replace one line.
PIXELCNN = LATER + '''class PixelCNN(nn.Module):
    def __init__(self, channels=64, blocks=4):
        super().__init__()
        self.input = MaskedConv2d("A", 1, channels, 7, padding=3)
        self.blocks = nn.ModuleList([
            nn.Sequential(nn.ReLU(), MaskedConv2d("B", channels, channels, 3, padding=1),
                          nn.ReLU(), MaskedConv2d("B", channels, channels, 1))
            for _ in range(blocks)
        ])
        self.output = nn.Sequential(nn.ReLU(), MaskedConv2d("B", channels, channels, 1),
                                    nn.ReLU(), MaskedConv2d("B", channels, 1, 1))

    def forward(self, x):
        h = self.input(x)
        for body in self.blocks:
            h = h + body(h)
        return self.output(h)
'''
PLAIN = (PIXELCNN.replace('MaskedConv2d("A", 1, channels, 7', "nn.Conv2d(1, channels, 7")
         .replace('MaskedConv2d("B", ', "nn.Conv2d("))

NLL = LATER + "import math\n\n\ndef pixelcnn_nll(logits, x):\n"

# sample: {body} draws the pixels; RASTER is the solution's loop without the crop, {draw} the draw.
SAMPLE = LATER + '''def sample(model, n, seed, given=None, start=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, 1, 28, 28)
    if given is not None:
        x.view(n, -1)[:, :start] = given.reshape(n, -1)[:, :start]
{body}
    return x
'''
RASTER = '''    with torch.no_grad():
        for k in range(start, 784):
            i, j = divmod(k, 28)
            p = torch.sigmoid(model(x)[:, 0, i, j])
            x[:, 0, i, j] = {draw}
'''
BERNOULLI = "torch.bernoulli(p, generator=generator)"
COLUMN_MAJOR = SAMPLE.format(body=RASTER.format(draw=BERNOULLI).replace("i, j = divmod(k, 28)", "j, i = divmod(k, 28)"))

MISTAKES = [
    # MaskedConv2d
    Mistake("mask-a-includes-centre", "MaskedConv2d", MASKED.format(shift=1, tail=APPLIED), "includes the centre"),
    Mistake("masks-swapped", "MaskedConv2d", MASKED.format(shift='(mask_type == "A")', tail=APPLIED),
            "A and B are swapped"),
    Mistake("mask-built-once-not-applied", "MaskedConv2d", MASKED.format(shift=B_SHIFT, tail=ONCE),
            "not applied in forward"),
    Mistake("mask-as-parameter", "MaskedConv2d", MASKED.format(shift=B_SHIFT, tail=APPLIED).replace(
        'self.register_buffer("mask", mask)', "self.mask = nn.Parameter(mask, requires_grad=False)"),
        "as a parameter"),
    Mistake("mask-keeps-rows-below", "MaskedConv2d", MASKED.format(shift=B_SHIFT, tail=APPLIED).replace(
        "        mask[:, :, k // 2 + 1:] = 0\n", ""), "rows below the centre must be hidden"),
    Mistake("forward-without-bias", "MaskedConv2d", MASKED.format(shift=B_SHIFT, tail=APPLIED).replace(
        "self._conv_forward(x, self.weight * self.mask, self.bias)",
        "F.conv2d(x, self.weight * self.mask, None, self.stride, self.padding)"), "pass self.bias"),
    Mistake("forward-without-padding", "MaskedConv2d", MASKED.format(shift=B_SHIFT, tail=APPLIED).replace(
        "self._conv_forward(x, self.weight * self.mask, self.bias)", "F.conv2d(x, self.weight * self.mask, self.bias)"),
        "(padding)"),
    Mistake("mask-forward-scaled", "MaskedConv2d", MASKED.format(shift=B_SHIFT, tail=APPLIED).replace(
        "return self._conv_forward(", "return 1.37 * self._conv_forward("), "kernels other than mask + bias",
        named=False),
    # PixelCNN
    Mistake("pixelcnn-plain-1x1-convolutions", "PixelCNN", PIXELCNN.replace(
        'MaskedConv2d("B", channels, channels, 1),\n                                    nn.ReLU(), '
        'MaskedConv2d("B", channels, 1, 1)', "nn.Conv2d(channels, channels, 1),\n"
        "                                    nn.ReLU(), nn.Conv2d(channels, 1, 1)"),
        "every convolution a MaskedConv2d, the 1x1 ones too"),
    Mistake("pixelcnn-no-residual", "PixelCNN", PIXELCNN.replace("h = h + body(h)", "h = body(h)"),
            "the residual connection is missing"),
    Mistake("pixelcnn-first-layer-mask-b", "PixelCNN", PIXELCNN.replace('MaskedConv2d("A"', 'MaskedConv2d("B"'),
            "must use mask A"),
    Mistake("pixelcnn-plain-convolutions", "PixelCNN", PLAIN, "lets the future in"),
    Mistake("pixelcnn-sigmoid-output", "PixelCNN", PIXELCNN.replace("return self.output(h)",
                                                                    "return torch.sigmoid(self.output(h))"),
            "a sigmoid was applied to the logits"),
    Mistake("pixelcnn-relu-after-the-sum", "PixelCNN", PIXELCNN.replace("h = h + body(h)", "h = F.relu(h + body(h))"),
            "a ReLU was applied after each residual sum"),
    Mistake("pixelcnn-logits-scaled", "PixelCNN", PIXELCNN.replace(
        "return self.output(h)", "return 1.37 * self.output(h)"), "differs from the expected", named=False),
    # pixelcnn_nll
    Mistake("nll-mean-over-pixels", "pixelcnn_nll", NLL + "    return F.binary_cross_entropy_with_logits(logits, x)\n",
            "a mean over pixels"),
    Mistake("nll-unstable", "pixelcnn_nll", NLL + "    p = torch.sigmoid(logits)\n"
            "    return -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum() / len(x)\n", "not finite"),
    Mistake("nll-sum-over-batch", "pixelcnn_nll", NLL + (
        "    return F.binary_cross_entropy_with_logits(logits, x, reduction='sum')\n"), "a sum over the batch too"),
    Mistake("nll-in-bits", "pixelcnn_nll", NLL + (
        "    return F.binary_cross_entropy_with_logits(logits, x, reduction='sum') / len(x) / math.log(2)\n"),
        "bits instead of nats"),
    Mistake("nll-sigmoid-first", "pixelcnn_nll", NLL + (
        "    probs = torch.sigmoid(logits)\n"
        "    return F.binary_cross_entropy_with_logits(probs, x, reduction='sum') / len(x)\n"),
        "probabilities passed as logits"),
    Mistake("nll-log-likelihood", "pixelcnn_nll", NLL + (
        "    return -F.binary_cross_entropy_with_logits(logits, x, reduction='sum') / len(x)\n"), "the sign is wrong"),
    Mistake("nll-scaled", "pixelcnn_nll", NLL + (
        "    return 1.37 * F.binary_cross_entropy_with_logits(logits, x, reduction='sum') / len(x)\n"), "compute ",
        named=False),
    # sample
    Mistake("sample-all-at-once", "sample", SAMPLE.format(body="    with torch.no_grad():\n"
            "        x = torch.bernoulli(torch.sigmoid(model(x)), generator=generator)\n"), "once"),
    Mistake("sample-column-major", "sample", COLUMN_MAJOR, "column-major"),
    Mistake("sample-without-no-grad", "sample", SAMPLE.format(body=RASTER.format(draw=BERNOULLI).replace(
        "    with torch.no_grad():\n", "    if True:\n")), "torch.no_grad()"),
    Mistake("sample-rounds-probabilities", "sample", SAMPLE.format(body=RASTER.format(draw="(p > 0.5).float()")),
            "rounding the probability"),
    Mistake("sample-ignores-seed", "sample", SAMPLE.format(body=RASTER.format(draw="torch.bernoulli(p)")),
            "same seed gave different images"),
    Mistake("sample-never-writes-back", "sample", SAMPLE.format(body="    out = x.clone()\n" + RASTER.format(
        draw=BERNOULLI).replace("x[:, 0, i, j] =", "out[:, 0, i, j] =")).replace("    return x\n", "    return out\n"),
        "never wrote the drawn pixels"),
    Mistake("sample-copies-all-of-given", "sample", SAMPLE.format(body=RASTER.format(draw=BERNOULLI)).replace(
        "x.view(n, -1)[:, :start] = given.reshape(n, -1)[:, :start]", "x = given.clone().float()"),
        "copied all of given"),
    Mistake("sample-transposed-logit", "sample", SAMPLE.format(body=RASTER.format(draw=BERNOULLI).replace(
        "model(x)[:, 0, i, j]", "model(x)[:, 0, j, i]")), "differs from a raster sampler's"),
    Mistake("sample-sharpened-logit", "sample", SAMPLE.format(body=RASTER.format(draw=BERNOULLI).replace(
        "torch.sigmoid(model(x)[:, 0, i, j])", "torch.sigmoid(1.37 * model(x)[:, 0, i, j])")),
        "do not follow their probabilities", named=False),
    Mistake("sample-extra-forward", "sample", SAMPLE.format(
        body="    model(x)  # to check the shapes\n" + RASTER.format(draw=BERNOULLI)), "785 times"),
]

# Mistakes whose failed checks show the student's picture (the sampled images).
SHOWN = ("sample-column-major",)

ALTERNATIVES = [
    Alternative("mask-from-raster-index", "MaskedConv2d", TORCH + '''class MaskedConv2d(nn.Conv2d):
    def __init__(self, mask_type, in_channels, out_channels, kernel_size, **conv_kwargs):
        super().__init__(in_channels, out_channels, kernel_size, **conv_kwargs)
        k = kernel_size
        index = torch.arange(k * k).view(1, 1, k, k)
        centre = (k // 2) * k + k // 2
        self.register_buffer("mask", (index < centre + (mask_type == "B")).float())  # (1, 1, k, k), broadcast

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, self.stride, self.padding, self.dilation, self.groups)
'''),
    Alternative("pixelcnn-blocks-appended", "PixelCNN", PIXELCNN.replace('''        self.blocks = nn.ModuleList([
            nn.Sequential(nn.ReLU(), MaskedConv2d("B", channels, channels, 3, padding=1),
                          nn.ReLU(), MaskedConv2d("B", channels, channels, 1))
            for _ in range(blocks)
        ])''', '''        self.blocks = nn.ModuleList()
        for _ in range(blocks):
            self.blocks.append(nn.Sequential(nn.ReLU(), MaskedConv2d("B", channels, channels, 3, padding=1),
                                             nn.ReLU(), MaskedConv2d("B", channels, channels, 1)))''').replace(
        "h = h + body(h)", "h = body(h) + h")),
    Alternative("nll-by-hand-stable", "pixelcnn_nll", NLL + (
        "    per_pixel = logits.clamp(min=0) - logits * x + torch.log1p(torch.exp(-logits.abs()))\n"
        "    return per_pixel.flatten(1).sum(dim=1).mean()\n")),
    Alternative("sample-full-image-and-uniform-draws", "sample", SAMPLE.format(body=RASTER.format(
        draw="(torch.rand(n, generator=generator) < p).float()"))),
]

FIND_PROBE = '''import sys


def _probe_frame(names):
    """The frame of the grader's probe that called this code (walking up from the caller)."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_name not in names:
        frame = frame.f_back
    return frame


'''

# masked_layer: the old probe reported its own input x (and the weights) after the forward, and the grader
# recomputed the expected output from them: zeroing x made conv(x, W * mask) + b = b match any forward.
FORGED_LAYER = MASKED.replace(TORCH, TORCH.rstrip() + '\n' + FIND_PROBE).format(shift=B_SHIFT, tail=ONCE + '''
    def forward(self, x):
        probe = _probe_frame(("masked_layer",))
        if probe is not None:
            probe.f_locals["x"].zero_()  # the input the probe reports; the output is then the bias alone
        return super().forward(x)
''')

# causality: the old verdict read the gradients the probe reported; a hook on the input zeroes them at and
# after each pixel the probe watches, so a network of plain convolutions looked causal.
ZERO_FUTURE = '''
    def forward(self, x):
        probe = _probe_frame(("causality",))
        if probe is not None and x.requires_grad:
            local = probe.f_locals
            spots = (list(enumerate(local["pixels"])) if "pixels" in local
                     else [(b, (i, j)) for b, i, j in local.get("watch", [])])
            keep = torch.ones_like(x)
            for b, (i, j) in spots:
                keep[b].view(-1)[i * 28 + j:] = 0  # at and after (i, j) in raster order
            x.register_hook(lambda grad: grad * keep)
        return self._honest_forward(x)

    def _honest_forward(self, x):
        h = self.input(x)'''
FORGED_CAUSALITY = PLAIN.replace(LATER, LATER.rstrip() + '\n' + FIND_PROBE).replace('''
    def forward(self, x):
        h = self.input(x)''', ZERO_FUTURE)

# pixelcnn_summary: the old checks trusted the summary's layers and parameter count, which the forward (run
# by module_summary on zeros) can rewrite: a PixelCNN one block short reported a full-size twin's.
SHORT = PIXELCNN.replace("def __init__(self, channels=64, blocks=4):",
                         "def __init__(self, channels=64, blocks=4, full=False):"
                         ).replace("for _ in range(blocks)", "for _ in range(blocks if full else blocks - 1)").replace(
    "        super().__init__()\n", "        super().__init__()\n        self.size = (channels, blocks)\n")
FORGED_SUMMARY = SHORT.replace(LATER, LATER.rstrip() + '\n' + FIND_PROBE).replace('''
    def forward(self, x):
''', '''
    def forward(self, x):
        probe = _probe_frame(("module_summary", "pixelcnn_summary"))
        if probe is not None and isinstance(probe.f_locals.get("summary"), dict):
            twin = PixelCNN(*self.size, full=True)
            describe = probe.f_locals.get("describe") or (lambda m: type(m).__name__)
            probe.f_locals["summary"].update(layers=[describe(m) for m in twin.modules() if not list(m.children())],
                                             parameters=sum(p.numel() for p in twin.parameters()))
''')

# record_sampling: the old probe computed the verdicts (raster order, column-major, stale and ahead pixels)
# beside the student; swapping its code to add "all in raster order" made a column-major sampler pass.
FORGED_SAMPLING = COLUMN_MAJOR.replace(LATER, LATER.rstrip() + "\nimport sys\nimport types\n\n\n") + '''

def _forged_record_sampling(sample, *args, **kwargs):
    report = _honest_record_sampling(sample, *args, **kwargs)
    report.update(raster=torch.ones(784, dtype=torch.bool), column_major=False, source=torch.arange(784),
                  stale=torch.zeros(784, dtype=torch.long), ahead=torch.zeros(784, dtype=torch.long))
    return report


for _name, _module in list(sys.modules.items()):
    if _name.startswith("_vizgen_support_pixelcnn_") and hasattr(_module, "record_sampling"):
        _real = _module.record_sampling
        _module._honest_record_sampling = types.FunctionType(_real.__code__, _real.__globals__, "honest",
                                                             _real.__defaults__, _real.__closure__)
        _real.__code__, _real.__defaults__ = _forged_record_sampling.__code__, None
'''

FORGERIES = [
    Forgery("masked-layer-zeroes-the-reported-input", "masked_layer", "MaskedConv2d", FORGED_LAYER,
            MASKED.format(shift=B_SHIFT, tail=ONCE)),
    Forgery("causality-zeroes-future-gradients", "causality", "PixelCNN", FORGED_CAUSALITY, PLAIN),
    Forgery("summary-reports-a-full-size-twin", "pixelcnn_summary", "PixelCNN", FORGED_SUMMARY, SHORT),
    Forgery("record-sampling-reports-raster-verdicts", "record_sampling", "sample", FORGED_SAMPLING, COLUMN_MAJOR),
]
