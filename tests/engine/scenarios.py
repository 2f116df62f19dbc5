"""Submission scenarios: which solution cell a student changed, and to what.

Each scenario becomes `submitted-<name>.ipynb`: the solution notebook with one cell's source
replaced (None deletes the cell). `test_engine_scenarios.py` grades each and says what a
student must see.
"""

SALIENCY_SIGNATURE = "def compute_saliency_maps(X, y, model):\n"

SCENARIOS = {
    "wrong-shape": ("compute_saliency_maps", SALIENCY_SIGNATURE + (
        "    X = X.clone().requires_grad_()\n"
        "    model(X).gather(1, y.view(-1, 1)).sum().backward()\n"
        "    return X.grad.abs()  # forgot the max over channels\n")),
    "raises": ("occlusion_map", (
        "def occlusion_map(X, y, model, patch_size=32, stride=16, fill=0.0, batch_size=64):\n"
        "    return X.view(-1)[10**9]\n")),
    "infinite-loop": ("occlusion_map", (
        "def occlusion_map(X, y, model, patch_size=32, stride=16, fill=0.0, batch_size=64):\n"
        "    while True:\n"
        "        pass\n")),
    "calls-sys-exit": ("make_fooling_image", (
        "import sys\n\n"
        "def make_fooling_image(X, target_y, model, max_iter=100, lr=1.0):\n"
        "    sys.exit(0)\n")),
    "leaves-hooks-registered": ("guided_backprop", (
        "import torch\n\n"
        "class PositiveGrad(torch.autograd.Function):\n"
        "    @staticmethod\n"
        "    def forward(ctx, x):\n"
        "        return x.clone()\n\n"
        "    @staticmethod\n"
        "    def backward(ctx, grad):\n"
        "        return grad.clamp(min=0)\n\n"
        "def guided_backprop(X, y, model):\n"
        "    for m in model.modules():  # the hooks are never removed\n"
        "        if isinstance(m, (torch.nn.ReLU, torch.nn.ReLU6)):\n"
        "            m.register_forward_hook(lambda mod, inp, out: PositiveGrad.apply(out))\n"
        "    X = X.clone().requires_grad_()\n"
        "    model(X).gather(1, y.view(-1, 1)).sum().backward()\n"
        "    return X.grad\n")),
    "missing-function": ("guided_backprop", None),
    "renamed-function": ("compute_saliency_maps", (
        "def compute_saliency_map(X, y, model):\n"
        "    X = X.clone().requires_grad_()\n"
        "    model(X).gather(1, y.view(-1, 1)).sum().backward()\n"
        "    return X.grad.abs().amax(dim=1)\n")),
    "wrong-signature": ("compute_saliency_maps", (
        "def compute_saliency_maps(X, model):\n"
        "    return X.abs().amax(dim=1)\n")),
    "nan-output": ("compute_saliency_maps", SALIENCY_SIGNATURE + (
        "    X = X.clone().requires_grad_()\n"
        "    model(X).gather(1, y.view(-1, 1)).sum().backward()\n"
        "    s = X.grad.abs().amax(dim=1)\n"
        "    return s / (s - s)  # divides by zero\n")),
    "wrong-dtype": ("compute_saliency_maps", SALIENCY_SIGNATURE + (
        "    X = X.clone().double().requires_grad_()\n"
        "    model.double()(X).gather(1, y.view(-1, 1)).sum().backward()\n"
        "    model.float()\n"
        "    return X.grad.abs().amax(dim=1)\n")),
    "wrong-device": ("compute_saliency_maps", SALIENCY_SIGNATURE + (
        "    X = X.clone().requires_grad_()\n"
        "    model(X).gather(1, y.view(-1, 1)).sum().backward()\n"
        "    return X.grad.abs().amax(dim=1).to('meta')\n")),
    "cheat-attempt": ("compute_saliency_maps", (
        "import os\n"
        "import torch\n"
        "import vizgen\n\n"
        "def compute_saliency_maps(X, y, model):\n"
        "    # find the grader's reference outputs next to the installed package and return the stored answer\n"
        "    root = os.path.dirname(os.path.dirname(vizgen.__file__))\n"
        "    path = os.path.join(root, 'autograder', 'network_visualization', 'references', 'cpu.pt')\n"
        "    with open(path, 'rb') as handle:\n"
        "        stored = torch.load(handle, weights_only=False)\n"
        "    return stored['saliency_photos']['output']\n")),
    "warns-on-stderr": ("compute_saliency_maps", (
        "import sys\nimport warnings\n\n"
        + SALIENCY_SIGNATURE +
        "    warnings.warn('this is only a warning')\n"
        "    print('debug output', file=sys.stderr)\n"
        "    X = X.clone().requires_grad_()\n"
        "    model(X).gather(1, y.view(-1, 1)).sum().backward()\n"
        "    return X.grad.abs().amax(dim=1)\n")),
    "crashes-process": ("saliency_to_mask", (
        "import os\n\n"
        "def saliency_to_mask(img, saliency, fg_quantile=0.95, bg_quantile=0.30, iterations=5):\n"
        "    os._exit(1)\n")),
}
