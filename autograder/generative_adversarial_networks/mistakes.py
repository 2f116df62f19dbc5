"""The GAN assignment's table: honest mistakes, correct alternatives and forged probes.

Never shipped (a mistake is one edit from the solution). ``tests/assignments/test_mistakes.py`` grades each
mistake in place of its function's cell (it must lose points of that function in the hidden checks, and in the
public ones when ``public``, with a failed check's message containing ``words``) and each alternative (full
marks); ``tests/hostile/test_forged_probes.py`` grades each forgery beside its baseline (no gain). Each source is
a whole cell, imports and definition, as a student would write it.
"""

from vizgen.author import Alternative, Forgery, Mistake, wrong_answer

IMPORTS = "import torch\nimport torch.nn.functional as F\nfrom torch import nn\n\n\n"

NOISE = "def sample_noise(batch_size, dim):\n"
D_LOSS = "def discriminator_loss(logits_real, logits_fake):\n"
G_LOSS = "def generator_loss(logits_fake):\n"
LS_D = "def ls_discriminator_loss(scores_real, scores_fake):\n"
LS_G = "def ls_generator_loss(scores_fake):\n"
OPT = "def get_optimizer(model):\n"
D_STEP = "def discriminator_step(D, G, D_solver, discriminator_loss, x, z):\n"
G_STEP = "def generator_step(D, G, G_solver, generator_loss, z):\n"
BCE = "F.binary_cross_entropy_with_logits"


def cell(body: str) -> str:
    return IMPORTS + body


def mlp_d(slope="0.01", act="nn.LeakyReLU({slope})", first="nn.Flatten(), ", last="") -> str:
    a = act.format(slope=slope)
    return cell("def discriminator():\n"
                f"    return nn.Sequential({first}nn.Linear(784, 256), {a}, nn.Linear(256, 256), {a},\n"
                f"                         nn.Linear(256, 1){last})\n")


def mlp_g(first="noise_dim", act="nn.ReLU()", width=1024, last=", nn.Tanh()") -> str:
    return cell("def generator(noise_dim=96):\n"
                f"    return nn.Sequential(nn.Linear({first}, {width}), {act}, nn.Linear({width}, {width}), {act},\n"
                f"                         nn.Linear({width}, 784){last})\n")


def dc_d(act="nn.LeakyReLU(0.01)", pool="nn.MaxPool2d(2), ", unflatten="nn.Unflatten(1, (1, 28, 28)), ",
         conv="", flat=1024) -> str:
    return cell("def build_dc_classifier():\n"
                f"    return nn.Sequential({unflatten}nn.Conv2d(1, 32, 5{conv}), {act}, {pool}\n"
                f"                         nn.Conv2d(32, 64, 5{conv}), {act}, {pool}nn.Flatten(),\n"
                f"                         nn.Linear({flat}, 1024), {act}, nn.Linear(1024, 1))\n")


def dc_g(first="noise_dim", hidden1="nn.ReLU(), nn.BatchNorm1d(1024)", hidden2="nn.ReLU(), nn.BatchNorm1d(7 * 7 * 128)",
         hidden3="nn.ReLU(), nn.BatchNorm2d(64)", out="nn.Tanh(), nn.Flatten()", size="(128, 7, 7)") -> str:
    return cell("def build_dc_generator(noise_dim=96):\n"
                "    return nn.Sequential(\n"
                f"        nn.Linear({first}, 1024), {hidden1},\n"
                f"        nn.Linear(1024, 7 * 7 * 128), {hidden2}, nn.Unflatten(1, {size}),\n"
                f"        nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1), {hidden3},\n"
                f"        nn.ConvTranspose2d(64, 1, 4, stride=2, padding=1), {out})\n")


def d_step(fake="G(z).detach()", loss="discriminator_loss(scores_real, scores_fake)", zero=True, step=True,
           returned="loss.detach()") -> str:
    return cell(D_STEP
                + f"    scores_real, scores_fake = D(x), D({fake})\n"
                + f"    loss = {loss}\n"
                + ("    D_solver.zero_grad()\n" if zero else "")
                + "    loss.backward()\n"
                + ("    D_solver.step()\n" if step else "")
                + f"    return {returned}, scores_real.detach(), scores_fake.detach()\n")


def g_step(fakes="D(G(z))", zero=True, step=True, returned="loss.detach()") -> str:
    return cell(G_STEP
                + f"    loss = generator_loss({fakes})\n"
                + ("    G_solver.zero_grad()\n" if zero else "")
                + "    loss.backward()\n"
                + ("    G_solver.step()\n" if step else "")
                + f"    return {returned}\n")


MISTAKES = [
    # sample_noise
    Mistake("noise-not-mapped-to-minus-one", "sample_noise", cell(NOISE + "    return torch.rand(batch_size, dim)\n"),
            "map it with 2 * torch.rand(...) - 1"),
    Mistake("noise-minus-half-to-half", "sample_noise", cell(NOISE + "    return torch.rand(batch_size, dim) - 0.5\n"),
            "reaches both ends"),
    Mistake("noise-shifted-by-half", "sample_noise", cell(NOISE + "    return 2 * torch.rand(batch_size, dim) - 0.5\n"),
            "expected inside [-1, 1]"),
    Mistake("gaussian-noise", "sample_noise", cell(NOISE + "    return torch.randn(batch_size, dim).clamp(-1, 1)\n"),
            "not torch.randn", public=False),
    Mistake("noise-seeded-inside", "sample_noise",
            cell(NOISE + "    torch.manual_seed(0)\n    return 2 * torch.rand(batch_size, dim) - 1\n"),
            "do not seed inside sample_noise", public=False),
    # discriminator
    Mistake("missing-layer", "discriminator",
            cell("def discriminator():\n"
                 "    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.LeakyReLU(0.01), "
                 "nn.Linear(256, 1))\n"),
            "parameters; expected 267,009"),
    Mistake("discriminator-leaky-0.2", "discriminator", mlp_d(slope="0.2"), "slope is 0.01"),
    Mistake("discriminator-no-flatten", "discriminator", mlp_d(first=""), "layer 1 is Linear; expected Flatten"),
    Mistake("discriminator-sigmoid-last", "discriminator", mlp_d(last=", nn.Sigmoid()"),
            "no activation after the last layer"),
    Mistake("discriminator-relu", "discriminator", mlp_d(act="nn.ReLU()"),
            "layer 3 is ReLU; expected LeakyReLU(negative_slope=0.01)"),
    # generator
    Mistake("generator-no-tanh", "generator", mlp_g(last=""), "expected Tanh"),
    Mistake("generator-sigmoid-last", "generator", mlp_g(last=", nn.Sigmoid()"), "layer 6 is Sigmoid; expected Tanh"),
    Mistake("generator-leaky-relu", "generator", mlp_g(act="nn.LeakyReLU(0.01)"), "expected ReLU"),
    Mistake("generator-width-256", "generator", mlp_g(width=256), "parameters; expected 1,952,528"),
    Mistake("generator-noise-dim-hard-coded", "generator", mlp_g(first="96"), "forward pass failed", public=False),
    # discriminator_loss
    Mistake("labels-swapped", "discriminator_loss", cell(D_LOSS + (
        f"    real = {BCE}(logits_real, torch.zeros_like(logits_real))\n"
        f"    fake = {BCE}(logits_fake, torch.ones_like(logits_fake))\n"
        "    return real + fake\n")), "likely bug: labels swapped"),
    Mistake("sum-not-mean", "discriminator_loss", cell(D_LOSS + (
        f"    real = {BCE}(logits_real, torch.ones_like(logits_real), reduction='sum')\n"
        f"    fake = {BCE}(logits_fake, torch.zeros_like(logits_fake), reduction='sum')\n"
        "    return real + fake\n")), "likely bug: sum instead of mean"),
    Mistake("discriminator-loss-log-sigmoid", "discriminator_loss", cell(D_LOSS + (
        "    return -torch.log(torch.sigmoid(logits_real)).mean() "
        "- torch.log(1 - torch.sigmoid(logits_fake)).mean()\n")),
        "never log(sigmoid(x))"),
    Mistake("discriminator-loss-one-mean", "discriminator_loss", cell(D_LOSS + (
        "    logits = torch.cat([logits_real, logits_fake])\n"
        "    targets = torch.cat([torch.ones_like(logits_real), torch.zeros_like(logits_fake)])\n"
        f"    return {BCE}(logits, targets)\n")), "likely bug: one mean over both batches"),
    Mistake("discriminator-loss-sigmoid-twice", "discriminator_loss", cell(D_LOSS + (
        "    real, fake = torch.sigmoid(logits_real), torch.sigmoid(logits_fake)\n"
        f"    return {BCE}(real, torch.ones_like(real)) + {BCE}(fake, torch.zeros_like(fake))\n")),
        "likely bug: sigmoid applied twice"),
    # generator_loss
    Mistake("sigmoid-twice", "generator_loss", cell(G_LOSS + (
        "    probs = torch.sigmoid(logits_fake)\n"
        f"    return {BCE}(probs, torch.ones_like(probs))\n")), "likely bug: sigmoid applied twice"),
    Mistake("unstable-log-sigmoid", "generator_loss",
            cell(G_LOSS + "    return -torch.log(torch.sigmoid(logits_fake)).mean()\n"),
            "the loss is not finite"),
    Mistake("generator-loss-saturating", "generator_loss",
            cell(G_LOSS + f"    return -{BCE}(logits_fake, torch.zeros_like(logits_fake))\n"),
            "likely bug: the saturating loss"),
    Mistake("generator-loss-target-0", "generator_loss",
            cell(G_LOSS + f"    return {BCE}(logits_fake, torch.zeros_like(logits_fake))\n"),
            "likely bug: target 0 instead of 1"),
    Mistake("generator-loss-sum", "generator_loss",
            cell(G_LOSS + f"    return {BCE}(logits_fake, torch.ones_like(logits_fake), reduction='sum')\n"),
            "likely bug: sum instead of mean"),
    # get_optimizer
    Mistake("wrong-optimizer", "get_optimizer", cell(OPT + "    return torch.optim.SGD(model.parameters(), lr=1e-3)\n"),
            "get_optimizer made SGD; expected Adam"),
    Mistake("optimizer-adamw", "get_optimizer",
            cell(OPT + "    return torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.5, 0.999))\n"),
            "get_optimizer made AdamW; expected Adam"),
    Mistake("optimizer-first-tensor-only", "get_optimizer",
            cell(OPT + "    return torch.optim.Adam([next(model.parameters())], lr=1e-3, betas=(0.5, 0.999))\n"),
            "the optimizer updates 1 of 2 parameter tensors"),
    Mistake("optimizer-not-returned", "get_optimizer",
            cell(OPT + "    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.999))\n"),
            "get_optimizer returned a NoneType"),
    # discriminator_step
    Mistake("discriminator-step-forgot-detach", "discriminator_step", d_step(fake="G(z)"), "detach the fakes"),
    Mistake("discriminator-step-forgot-zero-grad", "discriminator_step", d_step(zero=False), "no D_solver.zero_grad()"),
    Mistake("discriminator-step-arguments-swapped", "discriminator_step",
            d_step(loss="discriminator_loss(scores_fake, scores_real)"),
            "likely bug: the loss's arguments are swapped"),
    Mistake("discriminator-step-forgot-step", "discriminator_step", d_step(step=False),
            "D's parameters did not change"),
    Mistake("discriminator-step-loss-after-step", "discriminator_step",
            d_step(returned="discriminator_loss(D(x), D(G(z))).detach()"), "with the loss computed before the step"),
    # generator_step
    Mistake("generator-step-detached-fakes", "generator_step", g_step(fakes="D(G(z).detach())"),
            "do not detach G(z) in G's step"),
    Mistake("generator-step-forgot-zero-grad", "generator_step", g_step(zero=False), "no G_solver.zero_grad()"),
    Mistake("generator-step-forgot-step", "generator_step", g_step(step=False), "G's parameters did not change"),
    Mistake("generator-step-loss-after-step", "generator_step", g_step(returned="generator_loss(D(G(z))).detach()"),
            "return the loss computed before the step"),
    Mistake("generator-step-loss-on-images", "generator_step", g_step(fakes="G(z)"), "fresh fakes G(z) fed through D"),
    # ls_discriminator_loss
    Mistake("ls-discriminator-sum", "ls_discriminator_loss",
            cell(LS_D + "    return 0.5 * (scores_real - 1).pow(2).sum() + 0.5 * scores_fake.pow(2).sum()\n"),
            "likely bug: sum instead of mean"),
    Mistake("ls-discriminator-no-half", "ls_discriminator_loss",
            cell(LS_D + "    return (scores_real - 1).pow(2).mean() + scores_fake.pow(2).mean()\n"),
            "likely bug: the 0.5 factors are missing"),
    Mistake("ls-discriminator-targets-swapped", "ls_discriminator_loss",
            cell(LS_D + "    return 0.5 * scores_real.pow(2).mean() + 0.5 * (scores_fake - 1).pow(2).mean()\n"),
            "likely bug: targets swapped"),
    Mistake("ls-discriminator-one-mean", "ls_discriminator_loss",
            cell(LS_D + "    return 0.5 * torch.cat([(scores_real - 1).pow(2), scores_fake.pow(2)]).mean()\n"),
            "likely bug: one mean over both batches"),
    # ls_generator_loss
    Mistake("ls-generator-sum", "ls_generator_loss", cell(LS_G + "    return 0.5 * (scores_fake - 1).pow(2).sum()\n"),
            "likely bug: sum instead of mean"),
    Mistake("ls-generator-no-half", "ls_generator_loss", cell(LS_G + "    return (scores_fake - 1).pow(2).mean()\n"),
            "likely bug: the 0.5 factor is missing"),
    Mistake("ls-generator-target-0", "ls_generator_loss", cell(LS_G + "    return 0.5 * scores_fake.pow(2).mean()\n"),
            "likely bug: target 0 instead of 1"),
    Mistake("ls-generator-absolute", "ls_generator_loss",
            cell(LS_G + "    return 0.5 * (scores_fake - 1).abs().mean()\n"),
            "compute one half the mean squared distance of the fake scores from 1"),
    # build_dc_classifier
    Mistake("dc-classifier-leaky-0.2", "build_dc_classifier", dc_d(act="nn.LeakyReLU(0.2)"), "slope 0.01 (not 0.2)"),
    Mistake("dc-classifier-no-pool", "build_dc_classifier", dc_d(pool=""),
            "layer 4 is Conv2d; expected MaxPool2d"),
    Mistake("dc-classifier-no-unflatten", "build_dc_classifier", dc_d(unflatten=""),
            "layer 1 is Conv2d; expected Unflatten"),
    Mistake("dc-classifier-padded", "build_dc_classifier", dc_d(conv=", padding=2", flat=64 * 7 * 7),
            "parameters; expected 1,102,721"),
    Mistake("dc-classifier-relu", "build_dc_classifier", dc_d(act="nn.ReLU()"), "layer 3 is ReLU; expected LeakyReLU"),
    # build_dc_generator
    Mistake("returns-list", "build_dc_generator",
            cell("def build_dc_generator(noise_dim=96):\n    return [nn.Linear(noise_dim, 1024)]\n"),
            "returned a list; expected an nn.Module"),
    Mistake("dc-generator-batch-norm-before-relu", "build_dc_generator",
            dc_g(hidden1="nn.BatchNorm1d(1024), nn.ReLU()", hidden2="nn.BatchNorm1d(7 * 7 * 128), nn.ReLU()",
                 hidden3="nn.BatchNorm2d(64), nn.ReLU()"), "batch norm comes after the ReLU"),
    Mistake("dc-generator-no-flatten", "build_dc_generator", dc_g(out="nn.Tanh()"),
            "outputs shape (5, 1, 28, 28); expected (5, 784)"),
    Mistake("dc-generator-no-tanh", "build_dc_generator", dc_g(out="nn.Flatten()"),
            "layer 12 is Flatten; expected Tanh"),
    Mistake("dc-generator-noise-dim-hard-coded", "build_dc_generator", dc_g(first="96"), "forward pass failed",
            public=False),
]


# Un-named wrong answers: the solution's result changed in a way no usual mistake reproduces (no message may
# guess a cause): (name, function, the changed result, words a failed check says).
UNNAMED = [
    ("noise-halved", "sample_noise",
     "out * 0.5", "the noise"),
    ("discriminator-extra-tanh", "discriminator",
     "torch.nn.Sequential(out, torch.nn.Tanh())", "expected nothing"),
    ("generator-extra-sigmoid", "generator",
     "torch.nn.Sequential(out, torch.nn.Sigmoid())", "expected nothing"),
    ("d-loss-scaled", "discriminator_loss",
     "out * 1.37", "expected"),
    ("g-loss-scaled", "generator_loss",
     "out * 1.37", "expected"),
    ("optimizer-misses-a-tensor", "get_optimizer",
     "torch.optim.Adam(list(model.parameters())[:-1], lr=1e-3, betas=(0.5, 0.999))", "parameter tensors"),
    ("d-step-loss-scaled", "discriminator_step",
     "(out[0] * 1.37, *out[1:])", "returned the loss"),
    ("g-step-loss-scaled", "generator_step",
     "out * 1.37", "returned the loss"),
    ("ls-d-loss-scaled", "ls_discriminator_loss",
     "out * 1.37", "expected"),
    ("ls-g-loss-scaled", "ls_generator_loss",
     "out * 1.37", "expected"),
    ("dc-classifier-extra-tanh", "build_dc_classifier",
     "torch.nn.Sequential(out, torch.nn.Tanh())", "expected nothing"),
    ("dc-generator-extra-sigmoid", "build_dc_generator",
     "torch.nn.Sequential(out, torch.nn.Sigmoid())", "expected nothing"),
]
MISTAKES += [Mistake(n, f, wrong_answer(__file__, f, change), words, named=False) for n, f, change, words in UNNAMED]


# Mistakes whose failed checks show the student's picture (the generators' images on the [-1, 1] scale).
SHOWN = ("generator-sigmoid-last", "dc-generator-no-tanh")

ALTERNATIVES = [
    Alternative("noise-uniform-in-place", "sample_noise",
                cell(NOISE + "    return torch.empty(batch_size, dim).uniform_(-1, 1)\n")),
    Alternative("discriminator-nested-shared-activation", "discriminator", cell(
        "def discriminator():\n"
        "    act = nn.LeakyReLU(negative_slope=0.01)\n"
        "    hidden = nn.Sequential(nn.Linear(784, 256), act, nn.Linear(256, 256), act)\n"
        "    return nn.Sequential(nn.Flatten(), hidden, nn.Linear(256, 1))\n")),
    Alternative("generator-named-layers", "generator", "from collections import OrderedDict\n\n" + cell(
        "def generator(noise_dim=96):\n"
        "    return nn.Sequential(OrderedDict([\n"
        "        ('fc1', nn.Linear(noise_dim, 1024)), ('relu1', nn.ReLU()),\n"
        "        ('fc2', nn.Linear(1024, 1024)), ('relu2', nn.ReLU(inplace=True)),\n"
        "        ('fc3', nn.Linear(1024, 784)), ('tanh', nn.Tanh())]))\n")),
    Alternative("discriminator-loss-softplus", "discriminator_loss",
                cell(D_LOSS + "    return F.softplus(-logits_real).mean() + F.softplus(logits_fake).mean()\n")),
    Alternative("generator-loss-logsigmoid", "generator_loss",
                cell(G_LOSS + "    return -F.logsigmoid(logits_fake).mean()\n")),
    Alternative("optimizer-keywords", "get_optimizer",
                cell(OPT + "    return torch.optim.Adam(params=model.parameters(), betas=(0.5, 0.999), lr=0.001)\n")),
    Alternative("optimizer-param-group", "get_optimizer",
                cell(OPT + "    return torch.optim.Adam([{'params': list(model.parameters())}], lr=1e-3, "
                     "betas=(0.5, 0.999))\n")),
    Alternative("discriminator-step-one-batch", "discriminator_step", cell(D_STEP + (
        "    with torch.no_grad():\n"
        "        fake = G(z)\n"
        "    scores = D(torch.cat([x, fake]))\n"
        "    scores_real, scores_fake = scores[:len(x)], scores[len(x):]\n"
        "    loss = discriminator_loss(scores_real, scores_fake)\n"
        "    D_solver.zero_grad(set_to_none=False)\n"
        "    loss.backward()\n"
        "    D_solver.step()\n"
        "    return loss.item() * torch.ones(()), scores_real.detach(), scores_fake.detach()\n"))),
    Alternative("generator-step-zero-grad-in-place", "generator_step", cell(G_STEP + (
        "    G_solver.zero_grad(set_to_none=False)\n"
        "    fake = G(z)\n"
        "    loss = generator_loss(D(fake))\n"
        "    loss.backward()\n"
        "    G_solver.step()\n"
        "    return loss.detach()\n"))),
    Alternative("ls-discriminator-mse", "ls_discriminator_loss", cell(LS_D + (
        "    real = F.mse_loss(scores_real, torch.ones_like(scores_real))\n"
        "    fake = F.mse_loss(scores_fake, torch.zeros_like(scores_fake))\n"
        "    return 0.5 * (real + fake)\n"))),
    Alternative("ls-generator-mse", "ls_generator_loss",
                cell(LS_G + "    return 0.5 * F.mse_loss(scores_fake, torch.ones_like(scores_fake))\n")),
    Alternative("dc-classifier-keywords", "build_dc_classifier", cell(
        "def build_dc_classifier():\n"
        "    return nn.Sequential(\n"
        "        nn.Unflatten(dim=1, unflattened_size=(1, 28, 28)),\n"
        "        nn.Conv2d(in_channels=1, out_channels=32, kernel_size=5, stride=1, padding=0),\n"
        "        nn.LeakyReLU(negative_slope=0.01), nn.MaxPool2d(kernel_size=2, stride=2),\n"
        "        nn.Conv2d(32, 64, kernel_size=(5, 5)), nn.LeakyReLU(0.01), nn.MaxPool2d(2, 2),\n"
        "        nn.Flatten(start_dim=1), nn.Linear(4 * 4 * 64, 1024), nn.LeakyReLU(0.01), nn.Linear(1024, 1))\n")),
    Alternative("dc-generator-torch-size", "build_dc_generator", dc_g(size="torch.Size([128, 7, 7])")),
]


# ----- forged probes: each reaches a probe running beside it and forges what the old checks trusted -----

FIND_PROBES = (
    "def _probes_module():\n"
    "    for name, module in list(sys.modules.items()):\n"
    "        if name.startswith('_vizgen_support_') and hasattr(module, 'SUPPORT'):\n"
    "            yield module\n\n\n"
)

WRONG_D = ("    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.LeakyReLU(0.01), nn.Linear(256, 1))\n")

# module_summary (the engine's): swapped at load time for one that reports the specification.
FORGED_MODULE_SUMMARY = "import sys\n\n" + cell(
    "def _spec_summary(build, *args, input_shape=(), describe=None, **kwargs):\n"
    "    return {'is_module': True, 'type': 'Sequential',\n"
    "            'layers': ['Flatten(start_dim=1, end_dim=-1)', 'Linear(in_features=784, out_features=256)',\n"
    "                       'LeakyReLU(negative_slope=0.01)', 'Linear(in_features=256, out_features=256)',\n"
    "                       'LeakyReLU(negative_slope=0.01)', 'Linear(in_features=256, out_features=1)'],\n"
    "            'parameters': 267009, 'output_shape': (input_shape[0], 1) if input_shape else (),\n"
    "            'output_error': ''}\n\n\n"
    "def _forge():\n"
    "    sys.modules['vizgen.author.probes'].module_summary.__code__ = _spec_summary.__code__\n"
    "    return True\n\n\n"
    "class _Forged:  # a class body runs when the cell is loaded, before any probe\n"
    "    done = _forge()\n\n\n"
    "def discriminator():\n"
    "    assert _Forged.done\n" + WRONG_D)

# module_layers (this assignment's): reports the specification's layers beside the wrong network's output.
FORGED_MODULE_LAYERS = "import sys\nimport types\n\n" + cell(
    FIND_PROBES
    + "def _spec_layers(build, *args, seed=0, x=None, **kwargs):\n"
    "    report = _HONEST(build, *args, seed=seed, x=x, **kwargs)\n"
    "    report['layers'] = _HONEST(_SPEC, seed=seed)['layers']\n"
    "    return report\n\n\n"
    "def _forge():\n"
    "    for module in _probes_module():\n"
    "        probe = getattr(module, 'module_layers', None)\n"
    "        if probe is None:\n"
    "            continue\n"
    "        honest = types.FunctionType(probe.__code__, probe.__globals__, 'honest', probe.__defaults__)\n"
    "        honest.__kwdefaults__ = probe.__kwdefaults__\n"
    "        module._HONEST = honest\n"
    "        module._SPEC = lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.LeakyReLU(0.01),\n"
    "                                             nn.Linear(256, 256), nn.LeakyReLU(0.01), nn.Linear(256, 1))\n"
    "        probe.__code__ = _spec_layers.__code__\n"
    "    return True\n\n\n"
    "class _Forged:  # a class body runs when the cell is loaded, before any probe\n"
    "    done = _forge()\n\n\n"
    "def discriminator():\n"
    "    assert _Forged.done\n" + WRONG_D)

WRONG_D_BASELINE = cell("def discriminator():\n" + WRONG_D)

SGD = "    return torch.optim.SGD(model.parameters(), lr=1e-3)\n"

# optimizer_summary (the engine's): swapped at load time for one that reports the required Adam.
FORGED_OPTIMIZER_SUMMARY = "import sys\n\n" + cell(
    "def _adam_summary(get_optimizer, layer_sizes=(4, 3)):\n"
    "    return {'is_optimizer': True, 'type': 'Adam', 'lr': 1e-3, 'betas': (0.5, 0.999),\n"
    "            'covered': 2, 'total': 2}\n\n\n"
    "def _forge():\n"
    "    sys.modules['vizgen.author.probes'].optimizer_summary.__code__ = _adam_summary.__code__\n"
    "    return True\n\n\n"
    "class _Forged:  # a class body runs when the cell is loaded, before any probe\n"
    "    done = _forge()\n\n\n"
    + OPT + "    assert _Forged.done\n" + SGD)

# optimizer_steps (this assignment's): the SGD's steps, reported as the required Adam's.
FORGED_OPTIMIZER_STEPS = "import sys\nimport types\n\n" + cell(
    FIND_PROBES
    + "def _as_adam(get_optimizer, weights, grads):\n"
    "    report = _HONEST(get_optimizer, weights, grads)\n"
    "    report['type'], report['module'] = 'Adam', 'torch.optim.adam'\n"
    "    for group in report['groups']:\n"
    "        group['settings'] = {'lr': 1e-3, 'betas': (0.5, 0.999)}\n"
    "    return report\n\n\n"
    "def _forge():\n"
    "    for module in _probes_module():\n"
    "        probe = getattr(module, 'optimizer_steps', None)\n"
    "        if probe is None:\n"
    "            continue\n"
    "        module._HONEST = types.FunctionType(probe.__code__, probe.__globals__, 'honest', probe.__defaults__)\n"
    "        probe.__code__ = _as_adam.__code__\n"
    "    return True\n\n\n"
    "class _Forged:  # a class body runs when the cell is loaded, before any probe\n"
    "    done = _forge()\n\n\n"
    + OPT + "    assert _Forged.done\n" + SGD)

SGD_BASELINE = cell(OPT + SGD)

# discriminator_step / generator_step: the old probes held the correct change and loss in their frame
# ("expected", "want_loss"); a step that does no work copies them into the stepped player.
COPY_EXPECTED = (
    "def _copy_expected(model):\n"
    "    seen = sys._getframe(2).f_locals\n"
    "    expected, params = seen.get('expected'), list(model.parameters())\n"
    "    if not isinstance(expected, torch.Tensor) or expected.numel() != sum(p.numel() for p in params):\n"
    "        return torch.tensor(0.0)\n"
    "    with torch.no_grad():\n"
    "        offset = 0\n"
    "        for p in params:\n"
    "            p.add_(expected[offset:offset + p.numel()].view_as(p))\n"
    "            offset += p.numel()\n"
    "    return torch.tensor(float(seen.get('want_loss', 0.0)))\n\n\n"
)
FORGED_D_STEP = "import sys\n\n" + cell(
    COPY_EXPECTED + D_STEP
    + "    loss = _copy_expected(D)\n"
    "    with torch.no_grad():\n"
    "        return loss, D(x), D(G(z))\n")
D_STEP_BASELINE = cell(
    D_STEP
    + "    loss = torch.tensor(0.0)\n"
    "    with torch.no_grad():\n"
    "        return loss, D(x), D(G(z))\n")
FORGED_G_STEP = "import sys\n\n" + cell(COPY_EXPECTED + G_STEP + "    return _copy_expected(G)\n")
G_STEP_BASELINE = cell(G_STEP + "    return torch.tensor(0.0)\n")

# train_discriminator / train_generator (old probes, now loops in the grader): a wrong loss that, at load
# time, swaps the training probe for one reporting logits that moved the right way.
FORGED_D_TRAINING = "import sys\n\n" + cell(
    FIND_PROBES
    + "def _trained(loss, real, noise, steps=30, seed=0):\n"
    "    n = real.shape[0]\n"
    "    return {'real_before': torch.zeros(n, 1), 'fake_before': torch.zeros(n, 1),\n"
    "            'real_after': torch.full((n, 1), 5.0), 'fake_after': torch.full((n, 1), -5.0)}\n\n\n"
    "def _forge():\n"
    "    for module in _probes_module():\n"
    "        probe = getattr(module, 'train_discriminator', None)\n"
    "        if probe is not None:\n"
    "            probe.__code__ = _trained.__code__\n"
    "    return True\n\n\n"
    "class _Forged:  # a class body runs when the cell is loaded, before any probe\n"
    "    done = _forge()\n\n\n"
    + D_LOSS + "    assert _Forged.done\n"
    + f"    real = {BCE}(logits_real, torch.zeros_like(logits_real))\n"
    f"    fake = {BCE}(logits_fake, torch.ones_like(logits_fake))\n"
    "    return real + fake\n")
D_TRAINING_BASELINE = cell(
    D_LOSS
    + f"    real = {BCE}(logits_real, torch.zeros_like(logits_real))\n"
    f"    fake = {BCE}(logits_fake, torch.ones_like(logits_fake))\n"
    "    return real + fake\n")
FORGED_G_TRAINING = "import sys\n\n" + cell(
    FIND_PROBES
    + "def _trained(loss, noise, steps=30, seed=0):\n"
    "    n = noise.shape[0]\n"
    "    return {'fake_before': torch.zeros(n, 1), 'fake_after': torch.full((n, 1), 5.0)}\n\n\n"
    "def _forge():\n"
    "    for module in _probes_module():\n"
    "        probe = getattr(module, 'train_generator', None)\n"
    "        if probe is not None:\n"
    "            probe.__code__ = _trained.__code__\n"
    "    return True\n\n\n"
    "class _Forged:  # a class body runs when the cell is loaded, before any probe\n"
    "    done = _forge()\n\n\n"
    + G_LOSS + "    assert _Forged.done\n"
    + f"    return {BCE}(logits_fake, torch.zeros_like(logits_fake))\n")
G_TRAINING_BASELINE = cell(G_LOSS + f"    return {BCE}(logits_fake, torch.zeros_like(logits_fake))\n")

FORGERIES = [
    Forgery("module-summary-reports-the-specification", "module_summary", "discriminator", FORGED_MODULE_SUMMARY,
            WRONG_D_BASELINE),
    Forgery("module-layers-reports-the-specification", "module_layers", "discriminator", FORGED_MODULE_LAYERS,
            WRONG_D_BASELINE),
    Forgery("optimizer-summary-reports-adam", "optimizer_summary", "get_optimizer", FORGED_OPTIMIZER_SUMMARY,
            SGD_BASELINE),
    Forgery("optimizer-steps-reports-adam", "optimizer_steps", "get_optimizer", FORGED_OPTIMIZER_STEPS, SGD_BASELINE),
    Forgery("discriminator-step-copies-the-expected-change", "discriminator_step", "discriminator_step", FORGED_D_STEP,
            D_STEP_BASELINE),
    Forgery("generator-step-copies-the-expected-change", "generator_step", "generator_step", FORGED_G_STEP,
            G_STEP_BASELINE),
    Forgery("discriminator-loss-fakes-the-trained-logits", "train_discriminator", "discriminator_loss",
            FORGED_D_TRAINING, D_TRAINING_BASELINE),
    Forgery("generator-loss-fakes-the-trained-logits", "train_generator", "generator_loss", FORGED_G_TRAINING,
            G_TRAINING_BASELINE),
]
