"""The style transfer table: honest mistakes (each must cost its function points, with a message that names
it), correct alternatives (full marks) and forged probes (no gain over the honest baseline).

Run by ``tests/assignments/test_mistakes.py`` and ``tests/hostile/test_forged_probes.py``.
"""

from vizgen.author import Alternative, Forgery, Mistake

TORCH = "import torch\nimport torch.nn.functional as F\nfrom torch import nn\n\n"
NUMPY = "import numpy as np\n\n"

# A loop over the pixels, as a student would write it (the numbers are right, the work is per pixel).
PIXEL_LOOP_TV = TORCH + (
    "def tv_loss(img, tv_weight):\n"
    "    total = 0.0\n"
    "    for i in range(img.shape[2]):\n"
    "        for j in range(img.shape[3]):\n"
    "            if i + 1 < img.shape[2]:\n"
    "                total = total + ((img[:, :, i + 1, j] - img[:, :, i, j]) ** 2).sum()\n"
    "            if j + 1 < img.shape[3]:\n"
    "                total = total + ((img[:, :, i, j + 1] - img[:, :, i, j]) ** 2).sum()\n"
    "    return tv_weight * total\n")

# A loss with no gradient: the value is right, but it is a new tensor made from a Python float.
DETACHED_CONTENT = TORCH + (
    "def content_loss(content_weight, content_current, content_original):\n"
    "    value = content_weight * ((content_current - content_original) ** 2).sum().item()\n"
    "    return torch.tensor(value, requires_grad=True)\n")

DETACHED_STYLE = TORCH + (
    "def style_loss(feats, style_layers, style_targets, style_weights):\n"
    "    loss = 0.0\n"
    "    for layer, target, weight in zip(style_layers, style_targets, style_weights):\n"
    "        loss += weight * ((gram_matrix(feats[layer]) - target) ** 2).sum().item()\n"
    "    return torch.tensor(loss, requires_grad=True)\n")



def _texture(choose: str, mask: str = "filled[y : y + window, x : x + window]", copy: str = "candidates[pick, r, r]",
             result: str = "out[r:-r or None, r:-r or None].astype(np.uint8)") -> str:
    """Efros and Leung as a student writes it, with ``mask`` (the positions compared), ``choose`` (the line
    that sets ``pick``, the window whose centre is copied), ``copy`` (the value written) and ``result``."""
    return NUMPY + (
        "def synthesize_texture_nn(sample, out_size, window=7, seed=0):\n"
        "    rng = np.random.default_rng(seed)\n"
        "    sample = np.asarray(sample)\n"
        "    r = window // 2\n"
        "    windows = np.lib.stride_tricks.sliding_window_view(sample, (window, window), axis=(0, 1))\n"
        "    candidates = windows.transpose(0, 1, 3, 4, 2).reshape(-1, window, window, 3).astype(np.float32)\n"
        "    out = np.zeros((out_size + 2 * r, out_size + 2 * r, 3), np.float32)\n"
        "    filled = np.zeros((out_size + 2 * r, out_size + 2 * r), np.float32)\n"
        "    for y in range(out_size):\n"
        "        for x in range(out_size):\n"
        f"            mask = {mask}\n"
        "            patch = out[y : y + window, x : x + window]\n"
        "            dist = ((candidates - patch) ** 2 * mask[None, :, :, None]).sum(axis=(1, 2, 3))\n"
        f"            {choose}\n"
        f"            out[y + r, x + r] = {copy}\n"
        "            filled[y + r, x + r] = 1.0\n"
        f"    return {result}\n")


def _transformer(conv: str = "[nn.ReflectionPad2d(k // 2), nn.Conv2d(cin, cout, k, stride=stride), "
                 "nn.InstanceNorm2d(cout, affine=True)]",
                 out: str = "nn.Sequential(nn.ReflectionPad2d(4), nn.Conv2d(c, 3, 9))", forward: str = "") -> str:
    """The fast style network as a student writes it, with ``conv`` (one convolution's layers), ``out`` (the
    last module) and ``forward`` (its body) in place of the solution's."""
    forward = forward or (
        "        sizes = []\n"
        "        for layer in self.down:\n"
        "            if isinstance(layer, nn.Conv2d) and layer.stride[0] == 2:\n"
        "                sizes.append(padded)  # the size before this convolution's padding\n"
        "            padded = x.shape[-2:]\n"
        "            x = layer(x)\n"
        "        for block in self.residual:\n"
        "            x = x + block(x)\n"
        "        x = self.up1(F.interpolate(x, size=sizes[1], mode='nearest'))\n"
        "        x = self.up2(F.interpolate(x, size=sizes[0], mode='nearest'))\n"
        "        return self.out(x)\n")
    return TORCH + (
        "class TransformerNet(nn.Module):\n"
        "    def __init__(self, base_channels=16, num_residual=3):\n"
        "        super().__init__()\n"
        "        c = base_channels\n"
        "\n"
        "        def conv(cin, cout, k, stride=1, relu=True):\n"
        f"            layers = {conv}\n"
        "            return layers + [nn.ReLU()] if relu else layers\n"
        "\n"
        "        self.down = nn.Sequential(*conv(3, c, 9), *conv(c, 2 * c, 3, 2), *conv(2 * c, 4 * c, 3, 2))\n"
        "        self.residual = nn.ModuleList(\n"
        "            nn.Sequential(*conv(4 * c, 4 * c, 3), *conv(4 * c, 4 * c, 3, relu=False))"
        " for _ in range(num_residual))\n"
        "        self.up1 = nn.Sequential(*conv(4 * c, 2 * c, 3))\n"
        "        self.up2 = nn.Sequential(*conv(2 * c, c, 3))\n"
        f"        self.out = {out}\n"
        "\n"
        "    def forward(self, x):\n"
        + forward)


NEAR_BEST = "pick = rng.choice(np.flatnonzero(dist <= dist.min() * 1.1 + 1e-6))"

MISTAKES = [
    # content_loss
    Mistake("content-l1", "content_loss", TORCH + (
        "def content_loss(content_weight, content_current, content_original):\n"
        "    return content_weight * (content_current - content_original).abs().sum()\n"),
        "absolute values (L1)"),
    Mistake("content-mean", "content_loss", TORCH + (
        "def content_loss(content_weight, content_current, content_original):\n"
        "    return content_weight * F.mse_loss(content_current, content_original)\n"),
        "mean instead of sum"),
    Mistake("content-unweighted", "content_loss", TORCH + (
        "def content_loss(content_weight, content_current, content_original):\n"
        "    return ((content_current - content_original) ** 2).sum()\n"),
        "content_weight not applied"),
    Mistake("content-norm", "content_loss", TORCH + (
        "def content_loss(content_weight, content_current, content_original):\n"
        "    return content_weight * torch.norm(content_current - content_original)\n"),
        "square root taken"),
    Mistake("content-half", "content_loss", TORCH + (
        "def content_loss(content_weight, content_current, content_original):\n"
        "    return 0.5 * content_weight * ((content_current - content_original) ** 2).sum()"
        "  # Gatys et al.'s eq. 1\n"),
        "a factor 1/2"),
    Mistake("content-per-position", "content_loss", TORCH + (
        "def content_loss(content_weight, content_current, content_original):\n"
        "    positions = content_current.shape[2] * content_current.shape[3]  # average over the positions\n"
        "    return content_weight * ((content_current - content_original) ** 2).sum() / positions\n"),
        "compute ", named=False),
    Mistake("content-no-gradient", "content_loss", DETACHED_CONTENT, "differentiable in the image", public=False),
    # gram_matrix
    Mistake("gram-summed-over-batch", "gram_matrix", TORCH + (
        "def gram_matrix(features, normalize=True):\n"
        "    n, c, h, w = features.shape\n"
        "    flat = features.reshape(n, c, h * w)\n"
        "    return (flat @ flat.transpose(1, 2)).sum(0) / (c * h * w)\n"),
        "summed over the batch"),
    Mistake("gram-never-normalised", "gram_matrix", TORCH + (
        "def gram_matrix(features, normalize=True):\n"
        "    n, c, h, w = features.shape\n"
        "    flat = features.reshape(n, c, h * w)\n"
        "    return flat @ flat.transpose(1, 2)\n"),
        "not normalised"),
    Mistake("gram-divided-by-hw", "gram_matrix", TORCH + (
        "def gram_matrix(features, normalize=True):\n"
        "    n, c, h, w = features.shape\n"
        "    flat = features.reshape(n, c, h * w)\n"
        "    gram = flat @ flat.transpose(1, 2)\n"
        "    return gram / (h * w) if normalize else gram\n"),
        "divided by H * W only"),
    Mistake("gram-always-normalised", "gram_matrix", TORCH + (
        "def gram_matrix(features, normalize=True):\n"
        "    n, c, h, w = features.shape\n"
        "    flat = features.reshape(n, c, h * w)\n"
        "    return flat @ flat.transpose(1, 2) / (c * h * w)\n"),
        "normalised although normalize is False"),
    Mistake("gram-whole-batch-size", "gram_matrix", TORCH + (
        "def gram_matrix(features, normalize=True):\n"
        "    n, c, h, w = features.shape\n"
        "    flat = features.reshape(n, c, h * w)\n"
        "    gram = flat @ flat.transpose(1, 2)\n"
        "    return gram / features.numel() if normalize else gram  # numel counts the whole batch\n"),
        "differs from the expected", public=False, named=False),
    Mistake("gram-positions", "gram_matrix", TORCH + (
        "def gram_matrix(features, normalize=True):\n"
        "    n, c, h, w = features.shape\n"
        "    flat = features.reshape(n, c, h * w)\n"
        "    gram = flat.transpose(1, 2) @ flat  # (N, HW, HW): positions, not channels\n"
        "    return gram / (c * h * w) if normalize else gram\n"),
        "has shape"),
    # style_loss
    Mistake("style-reversed-weights", "style_loss", TORCH + (
        "def style_loss(feats, style_layers, style_targets, style_weights):\n"
        "    weights = style_weights[::-1]\n"
        "    return sum(w * ((gram_matrix(feats[l]) - t) ** 2).sum() "
        "for l, t, w in zip(style_layers, style_targets, weights))\n"),
        "the layer weights in reverse order"),
    Mistake("style-l1", "style_loss", TORCH + (
        "def style_loss(feats, style_layers, style_targets, style_weights):\n"
        "    return sum(w * (gram_matrix(feats[l]) - t).abs().sum() "
        "for l, t, w in zip(style_layers, style_targets, style_weights))\n"),
        "absolute values (L1)"),
    Mistake("style-unweighted", "style_loss", TORCH + (
        "def style_loss(feats, style_layers, style_targets, style_weights):\n"
        "    return sum(((gram_matrix(feats[l]) - t) ** 2).sum() for l, t in zip(style_layers, style_targets))\n"),
        "the layer weights not applied"),
    Mistake("style-last-layer", "style_loss", TORCH + (
        "def style_loss(feats, style_layers, style_targets, style_weights):\n"
        "    for layer, target, weight in zip(style_layers, style_targets, style_weights):\n"
        "        loss = weight * ((gram_matrix(feats[layer]) - target) ** 2).sum()\n"
        "    return loss\n"),
        "only the last layer counted"),
    Mistake("style-by-position", "style_loss", TORCH + (
        "def style_loss(feats, style_layers, style_targets, style_weights):\n"
        "    return sum(w * ((gram_matrix(feats[i]) - t) ** 2).sum() "
        "for i, (t, w) in enumerate(zip(style_targets, style_weights)))\n"),
        "feats indexed by position"),
    Mistake("style-mean-over-layers", "style_loss", TORCH + (
        "def style_loss(feats, style_layers, style_targets, style_weights):\n"
        "    terms = [w * ((gram_matrix(feats[l]) - t) ** 2).sum() "
        "for l, t, w in zip(style_layers, style_targets, style_weights)]\n"
        "    return sum(terms) / len(terms)\n"),
        "compute ", named=False),
    Mistake("style-no-gradient", "style_loss", DETACHED_STYLE, "differentiable in the image", public=False),
    # tv_loss
    Mistake("tv-pixel-loop", "tv_loss", PIXEL_LOOP_TV, "a Python loop over pixels"),
    Mistake("tv-absolute", "tv_loss", TORCH + (
        "def tv_loss(img, tv_weight):\n"
        "    down = (img[:, :, 1:, :] - img[:, :, :-1, :]).abs().sum()\n"
        "    across = (img[:, :, :, 1:] - img[:, :, :, :-1]).abs().sum()\n"
        "    return tv_weight * (down + across)\n"),
        "absolute values instead of squared differences"),
    Mistake("tv-means", "tv_loss", TORCH + (
        "def tv_loss(img, tv_weight):\n"
        "    down = ((img[:, :, 1:, :] - img[:, :, :-1, :]) ** 2).mean()\n"
        "    across = ((img[:, :, :, 1:] - img[:, :, :, :-1]) ** 2).mean()\n"
        "    return tv_weight * (down + across)\n"),
        "means instead of sums"),
    Mistake("tv-vertical-only", "tv_loss", TORCH + (
        "def tv_loss(img, tv_weight):\n"
        "    return tv_weight * ((img[:, :, 1:, :] - img[:, :, :-1, :]) ** 2).sum()\n"),
        "only vertical neighbours"),
    Mistake("tv-unweighted", "tv_loss", TORCH + (
        "def tv_loss(img, tv_weight):\n"
        "    down = ((img[:, :, 1:, :] - img[:, :, :-1, :]) ** 2).sum()\n"
        "    across = ((img[:, :, :, 1:] - img[:, :, :, :-1]) ** 2).sum()\n"
        "    return down + across\n"),
        "tv_weight not applied"),
    Mistake("tv-row-loop", "tv_loss", TORCH + (
        "def tv_loss(img, tv_weight):\n"
        "    total = ((img[:, :, 1:, :] - img[:, :, :-1, :]) ** 2).sum()\n"
        "    for j in range(img.shape[3] - 1):  # one column pair at a time\n"
        "        total = total + ((img[:, :, :, j + 1] - img[:, :, :, j]) ** 2).sum()\n"
        "    return tv_weight * total\n"),
        "a Python loop over pixels"),
    Mistake("tv-per-channel", "tv_loss", TORCH + (
        "def tv_loss(img, tv_weight):\n"
        "    down = ((img[:, :, 1:, :] - img[:, :, :-1, :]) ** 2).sum()\n"
        "    across = ((img[:, :, :, 1:] - img[:, :, :, :-1]) ** 2).sum()\n"
        "    return tv_weight * (down + across) / img.shape[1]\n"),
        "compute ", named=False),
    # synthesize_texture_nn
    Mistake("texture-mean-noise", "synthesize_texture_nn", NUMPY + (
        "def synthesize_texture_nn(sample, out_size, window=7, seed=0):\n"
        "    rng = np.random.default_rng(seed)\n"
        "    mean = np.asarray(sample).reshape(-1, 3).mean(0)\n"
        "    noise = rng.integers(-3, 4, (out_size, out_size, 3))\n"
        "    return np.clip(mean + noise, 0, 255).astype(np.uint8)\n"),
        "do not occur in the sample"),
    Mistake("texture-random-pixels", "synthesize_texture_nn", NUMPY + (
        "def synthesize_texture_nn(sample, out_size, window=7, seed=0):\n"
        "    rng = np.random.default_rng(seed)\n"
        "    pixels = np.asarray(sample).reshape(-1, 3)\n"
        "    return pixels[rng.integers(0, len(pixels), out_size * out_size)].reshape(out_size, out_size, 3)\n"),
        "repeats with the sample's period"),
    Mistake("texture-float-output", "synthesize_texture_nn",
            _texture(NEAR_BEST, result="out[r:-r or None, r:-r or None]  # still float32"), "uint8"),
    Mistake("texture-blended", "synthesize_texture_nn", _texture(
        "pick = rng.choice(np.flatnonzero(dist <= dist.min() * 1.1 + 1e-6), size=3)  # three near-best windows",
        copy="candidates[pick, r, r].mean(0)  # their centres' average"), "do not occur in the sample"),
    Mistake("texture-whole-window", "synthesize_texture_nn",
            _texture(NEAR_BEST, mask="np.ones((window, window), np.float32)  # compare the whole window"),
            "repeats with the sample's period 3"),
    Mistake("texture-always-best", "synthesize_texture_nn", _texture("pick = np.argmin(dist)  # the best match"),
            "gave the same texture"),
    Mistake("texture-five-best", "synthesize_texture_nn",
            _texture("pick = rng.choice(np.argsort(dist)[:5])  # one of the five best"),
            "do not follow their probabilities"),
    Mistake("texture-padding-kept", "synthesize_texture_nn",
            _texture(NEAR_BEST, result="out[r:, r:].astype(np.uint8)  # drop the padding"),
            "expected (12, 12, 3)", named=False),
    # instance_norm
    Mistake("instance-norm-std-plus-eps", "instance_norm", TORCH + (
        "def instance_norm(x, weight, bias, eps=1e-5):\n"
        "    mean = x.mean(dim=(2, 3), keepdim=True)\n"
        "    std = x.std(dim=(2, 3), unbiased=False, keepdim=True)\n"
        "    return (x - mean) / (std + eps) * weight.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)\n"),
        "likely bug: eps added to the standard deviation"),
    Mistake("instance-norm-unbiased", "instance_norm", TORCH + (
        "def instance_norm(x, weight, bias, eps=1e-5):\n"
        "    mean = x.mean(dim=(2, 3), keepdim=True)\n"
        "    var = x.var(dim=(2, 3), keepdim=True)\n"
        "    return (x - mean) / torch.sqrt(var + eps) * weight.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)\n"),
        "likely bug: the unbiased variance"),
    Mistake("instance-norm-no-affine", "instance_norm", TORCH + (
        "def instance_norm(x, weight, bias, eps=1e-5):\n"
        "    mean = x.mean(dim=(2, 3), keepdim=True)\n"
        "    var = x.var(dim=(2, 3), unbiased=False, keepdim=True)\n"
        "    return (x - mean) / torch.sqrt(var + eps)\n"),
        "likely bug: weight and bias not applied"),
    Mistake("instance-norm-batch-statistics", "instance_norm", TORCH + (
        "def instance_norm(x, weight, bias, eps=1e-5):\n"
        "    mean = x.mean(dim=(0, 2, 3), keepdim=True)  # over the batch too, like batch norm\n"
        "    var = x.var(dim=(0, 2, 3), unbiased=False, keepdim=True)\n"
        "    return (x - mean) / torch.sqrt(var + eps) * weight.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)\n"),
        "likely bug: the statistics taken over the batch too"),
    Mistake("instance-norm-layer-statistics", "instance_norm", TORCH + (
        "def instance_norm(x, weight, bias, eps=1e-5):\n"
        "    mean = x.mean(dim=(1, 2, 3), keepdim=True)  # one mean per image\n"
        "    var = x.var(dim=(1, 2, 3), unbiased=False, keepdim=True)\n"
        "    return (x - mean) / torch.sqrt(var + eps) * weight.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)\n"),
        "likely bug: the statistics taken over all channels"),
    Mistake("instance-norm-library", "instance_norm", TORCH + (
        "def instance_norm(x, weight, bias, eps=1e-5):\n"
        "    return F.instance_norm(x, weight=weight, bias=bias, eps=eps)\n"),
        "library's version earns nothing"),
    Mistake("instance-norm-per-row", "instance_norm", TORCH + (
        "def instance_norm(x, weight, bias, eps=1e-5):\n"
        "    mean = x.mean(dim=3, keepdim=True)  # along each row\n"
        "    var = x.var(dim=3, unbiased=False, keepdim=True)\n"
        "    return (x - mean) / torch.sqrt(var + eps) * weight.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)\n"),
        "differs from the expected", named=False),
    Mistake("instance-norm-in-place", "instance_norm", TORCH + (
        "def instance_norm(x, weight, bias, eps=1e-5):\n"
        "    mean = x.mean(dim=(2, 3), keepdim=True)\n"
        "    var = x.var(dim=(2, 3), unbiased=False, keepdim=True)\n"
        "    x -= mean  # in place: the caller's tensor changes\n"
        "    x /= torch.sqrt(var + eps)\n"
        "    return x * weight.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)\n"),
        "modified its input x in place"),
    # TransformerNet
    Mistake("transformer-transposed-convolutions", "TransformerNet", TORCH + (
        "class TransformerNet(nn.Module):\n"
        "    def __init__(self, base_channels=16, num_residual=3):\n"
        "        super().__init__()\n"
        "        c = base_channels\n"
        "        self.net = nn.Sequential(nn.Conv2d(3, c, 3, stride=2, padding=1), nn.ReLU(),\n"
        "                                 nn.ConvTranspose2d(c, 3, 4, stride=2, padding=1))\n"
        "\n"
        "    def forward(self, x):\n"
        "        return self.net(x)\n"),
        "ConvTranspose2d, which draws checkerboard"),
    Mistake("transformer-batch-norm", "TransformerNet", _transformer(
        "[nn.ReflectionPad2d(k // 2), nn.Conv2d(cin, cout, k, stride=stride), nn.BatchNorm2d(cout)]"),
        "uses batch norm"),
    Mistake("transformer-zero-padding", "TransformerNet", _transformer(
        "[nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2), nn.InstanceNorm2d(cout, affine=True)]",
        out="nn.Conv2d(c, 3, 9, padding=4)"),
        "ReflectionPad2d"),
    Mistake("transformer-doubling-upsample", "TransformerNet", _transformer(
        forward=("        x = self.down(x)\n"
                 "        for block in self.residual:\n"
                 "            x = x + block(x)\n"
                 "        x = self.up1(F.interpolate(x, scale_factor=2, mode='nearest'))  # odd sizes grow by one\n"
                 "        x = self.up2(F.interpolate(x, scale_factor=2, mode='nearest'))\n"
                 "        return self.out(x)\n")),
        "expected (2, 3, 33, 29)"),
    Mistake("transformer-small-first-kernel", "TransformerNet",
            _transformer().replace("*conv(3, c, 9)", "*conv(3, c, 3)"), "parameters; expected 276,675",
            named=False),
]

# Mistakes whose failed checks show the student's picture (the texture and where it breaks the property).
SHOWN = ("texture-blended", "texture-random-pixels")

ALTERNATIVES = [
    Alternative("content-mse-sum", "content_loss", TORCH + (
        "def content_loss(content_weight, content_current, content_original):\n"
        "    return content_weight * F.mse_loss(content_current, content_original, reduction='sum')\n")),
    Alternative("gram-einsum", "gram_matrix", TORCH + (
        "def gram_matrix(features, normalize=True):\n"
        "    gram = torch.einsum('nchw,ndhw->ncd', features, features)\n"
        "    return gram / features[0].numel() if normalize else gram\n")),
    Alternative("gram-bmm", "gram_matrix", TORCH + (
        "def gram_matrix(features, normalize=True):\n"
        "    n, c, h, w = features.shape\n"
        "    flat = features.view(n, c, -1)\n"
        "    gram = torch.bmm(flat, flat.permute(0, 2, 1))\n"
        "    if normalize:\n"
        "        gram = gram / (c * h * w)\n"
        "    return gram\n")),
    Alternative("style-stacked", "style_loss", TORCH + (
        "def style_loss(feats, style_layers, style_targets, style_weights):\n"
        "    terms = [w * F.mse_loss(gram_matrix(feats[l]), t, reduction='sum')\n"
        "             for l, t, w in zip(style_layers, style_targets, style_weights)]\n"
        "    return torch.stack(terms).sum()\n")),
    Alternative("tv-diff", "tv_loss", TORCH + (
        "def tv_loss(img, tv_weight):\n"
        "    return tv_weight * (torch.diff(img, dim=2).pow(2).sum() + torch.diff(img, dim=3).pow(2).sum())\n")),
    Alternative("tv-convolution", "tv_loss", TORCH + (
        "def tv_loss(img, tv_weight):\n"
        "    c = img.shape[1]\n"
        "    down = torch.tensor([[-1.0], [1.0]]).expand(c, 1, 2, 1)\n"
        "    across = torch.tensor([[-1.0, 1.0]]).expand(c, 1, 1, 2)\n"
        "    return tv_weight * (F.conv2d(img, down, groups=c).pow(2).sum()"
        " + F.conv2d(img, across, groups=c).pow(2).sum())\n")),
    Alternative("instance-norm-moments", "instance_norm", TORCH + (
        "def instance_norm(x, weight, bias, eps=1e-5):\n"
        "    mean = x.mean(dim=(2, 3), keepdim=True)\n"
        "    var = (x * x).mean(dim=(2, 3), keepdim=True) - mean ** 2  # E[x^2] - E[x]^2\n"
        "    y = (x - mean) / (var + eps) ** 0.5\n"
        "    return y * weight.reshape(-1, 1, 1) + bias.reshape(-1, 1, 1)\n")),
    Alternative("instance-norm-var-mean", "instance_norm", TORCH + (
        "def instance_norm(x, weight, bias, eps=1e-5):\n"
        "    var, mean = torch.var_mean(x, dim=(2, 3), correction=0, keepdim=True)\n"
        "    return (x - mean) * torch.rsqrt(var + eps) * weight[None, :, None, None] + bias[None, :, None, None]\n")),
]

# The old probes trusted what ran beside the student's code: ``descend`` returned the image it had
# optimised in the student's process (a loss that overwrote that image with the target passed), and
# ``count_torch_calls``'s count was the whole "no pixel loop" verdict (a loop that reset the counter
# passed). Now the judge runs the descent and keeps the image, and the verdict also needs the call's CPU
# time, which the worker reads from the kernel.
_OVERWRITE_DESCENT_IMAGE = (
    "    frame = sys._getframe(1)\n"
    "    while frame is not None:  # the old descend probe: its `img` was what the grader judged\n"
    "        names = frame.f_locals\n"
    "        if isinstance(names.get('img'), torch.Tensor) and isinstance(names.get('target'), torch.Tensor):\n"
    "            names['img'].data.copy_(names['target'])  # .data: autograd does not see it\n"
    "        frame = frame.f_back\n")

FORGERIES = [
    Forgery("content-overwrites-the-descent-image", "descend", "content_loss",
            TORCH + "import sys\n\n"
            "def content_loss(content_weight, content_current, content_original):\n"
            + _OVERWRITE_DESCENT_IMAGE +
            "    return 0.0 * content_current.sum()\n",
            TORCH + "def content_loss(content_weight, content_current, content_original):\n"
            "    return 0.0 * content_current.sum()\n"),
    Forgery("style-overwrites-the-descent-image", "descend", "style_loss",
            TORCH + "import sys\n\n"
            "def style_loss(feats, style_layers, style_targets, style_weights):\n"
            + _OVERWRITE_DESCENT_IMAGE +
            "    return 0.0 * sum(f.sum() for f in feats)\n",
            TORCH + "def style_loss(feats, style_layers, style_targets, style_weights):\n"
            "    return 0.0 * sum(f.sum() for f in feats)\n"),
    Forgery("style-reports-the-gradient-of-another-loss", "differentiate", "style_loss",
            TORCH + "def style_loss(feats, style_layers, style_targets, style_weights):\n"
            "    def feigned(outputs, inputs, **_):  # reports the features' pull towards zero as the gradient\n"
            "        return tuple(2 * t.detach() for t in inputs)\n"
            "    torch.autograd.grad = feigned\n"
            "    return 0.0 * sum(f.sum() for f in feats)\n",
            TORCH + "def style_loss(feats, style_layers, style_targets, style_weights):\n"
            "    return 0.0 * sum(f.sum() for f in feats)\n"),
    Forgery("tv-loop-resets-the-call-counter", "count_torch_calls", "tv_loss",
            TORCH + "import sys\n\n"
            "def tv_loss(img, tv_weight):\n"
            "    total = 0.0\n"
            "    for i in range(img.shape[2]):\n"
            "        for j in range(img.shape[3]):\n"
            "            if i + 1 < img.shape[2]:\n"
            "                total = total + ((img[:, :, i + 1, j] - img[:, :, i, j]) ** 2).sum()\n"
            "            if j + 1 < img.shape[3]:\n"
            "                total = total + ((img[:, :, i, j + 1] - img[:, :, i, j]) ** 2).sum()\n"
            "    loss = tv_weight * total\n"
            "    counter = sys._getframe(1).f_locals.get('counter')  # count_torch_calls' TorchFunctionMode\n"
            "    if counter is not None:\n"
            "        counter.calls = 12  # what slices make\n"
            "    return loss\n",
            PIXEL_LOOP_TV),
]
