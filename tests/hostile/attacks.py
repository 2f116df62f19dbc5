"""What a hostile (or careless) student tries against the grader, as solution-cell replacements.

Each scenario becomes `submitted-<name>.ipynb`: the network visualization solution with one
function replaced. `test_isolation.py` grades each: only the attacked function's checks may fail,
nothing secret may reach the results, and nothing may be left running.
"""

_SALIENCY = (
    "def compute_saliency_maps(X, y, model):\n"
    "    X = X.clone().requires_grad_()\n"
    "    model(X).gather(1, y.view(-1, 1)).sum().backward()\n"
    "    return X.grad.abs().amax(dim=1)\n"
)

_FIND_COURSE = (
    "import os\n"
    "import torch\n"
    "import vizgen\n\n"
    "def _course():\n"
    "    # the course folder, from where the vizgen package was loaded\n"
    "    return os.path.dirname(os.path.dirname(vizgen.__file__))\n\n"
    "def _native_read(path):\n"
    "    # torch reads the file in C++: the audit hooks never see this open\n"
    "    size = os.stat(path).st_size\n"
    "    return bytes(torch.from_file(path, shared=False, size=size, dtype=torch.uint8).tolist())\n\n"
)

SECRET_MARKER = "REFERENCE_CASES"  # in every hidden check module; must never reach a student

HOSTILE = {
    # Reads the solution notebook natively and runs the solution's own code.
    "native-read-of-solution": ("compute_saliency_maps", _FIND_COURSE + (
        "def compute_saliency_maps(X, y, model):\n"
        "    import json\n"
        "    nb = json.loads(_native_read(os.path.join(_course(), 'solutions', 'network_visualization',\n"
        "                                              'NetworkVisualization.ipynb')))\n"
        "    cell = next(c for c in nb['cells'] if c['metadata'].get('nbgrader', {}).get('grade_id')\n"
        "                == 'compute_saliency_maps')\n"
        "    scope = {}\n"
        "    exec(''.join(cell['source']), scope)\n"
        "    return scope['compute_saliency_maps'](X, y, model)\n")),
    # Reads a hidden check module natively and smuggles it out in an exception message.
    "native-read-of-hidden-check": ("compute_saliency_maps", _FIND_COURSE + (
        "def compute_saliency_maps(X, y, model):\n"
        "    path = os.path.join(_course(), 'autograder', 'network_visualization', 'hidden', "
        "'test_saliency_hidden.py')\n"
        "    raise ValueError(_native_read(path).decode())\n")),
    # Reads the stored reference outputs natively and returns the stored answer.
    "native-read-of-reference": ("compute_saliency_maps", _FIND_COURSE + (
        "import io\n\n"
        "def compute_saliency_maps(X, y, model):\n"
        "    path = os.path.join(_course(), 'autograder', 'network_visualization', 'references', 'cpu.pt')\n"
        "    stored = torch.load(io.BytesIO(_native_read(path)), weights_only=False)\n"
        "    return stored['saliency_photos']['output']\n")),
    # Reads the assignment's judge (the grader's correct values and diagnoses) natively.
    "native-read-of-judge": ("compute_saliency_maps", _FIND_COURSE + (
        "def compute_saliency_maps(X, y, model):\n"
        "    path = os.path.join(_course(), 'autograder', 'network_visualization', 'judge.py')\n"
        "    raise ValueError(_native_read(path).decode())\n")),
    # Asks for far more memory than a function may use.
    "memory-hog": ("compute_saliency_maps", (
        "import torch\n\n"
        "def compute_saliency_maps(X, y, model):\n"
        "    hog = [torch.empty(2**28) for _ in range(64)]  # 64 GiB\n"
        "    return hog[0]\n")),
    # Forks as many processes as it can.
    "fork-storm": ("occlusion_map", (
        "import os\n\n"
        "def occlusion_map(X, y, model, patch_size=32, stride=16, fill=0.0, batch_size=64):\n"
        "    while True:\n"
        "        os.fork()\n")),
    # Kills its parent and the grader with a raw syscall (libc already loaded by the worker).
    "kills-the-grader": ("guided_backprop", (
        "import os\n"
        "import signal\n\n"
        "def guided_backprop(X, y, model):\n"
        "    from landlockpy import _syscall\n"
        "    parent = os.getppid()\n"
        "    grader = int(open(f'/proc/{parent}/stat').read().split(')')[1].split()[1])\n"
        "    results = [_syscall._get_libc().syscall(62, pid, signal.SIGKILL) for pid in (parent, grader)]\n"
        "    return X.grad  # None: only reached if the kills were refused\n")),
    # Returns a tensor larger than the grader accepts (the test lowers the limit to 8 MB).
    "giant-return-value": ("class_visualization_update_step", (
        "import torch\n\n"
        "def class_visualization_update_step(img, model, target_y, l2_reg, learning_rate):\n"
        "    return torch.zeros(16 * 2**20)  # 64 MB\n")),
    # Returns a list nested deeper than Python can walk.
    "deeply-nested-return-value": ("class_visualization_update_step", (
        "def class_visualization_update_step(img, model, target_y, l2_reg, learning_rate):\n"
        "    value = []\n"
        "    for _ in range(100000):\n"
        "        value = [value]\n"
        "    return value\n")),
    # Leaves a thread spinning after it returns a correct result.
    "thread-left-spinning": ("compute_saliency_maps", (
        "import threading\n\n"
        "def _spin():\n"
        "    while True:\n"
        "        pass\n\n"
        "def compute_saliency_maps(X, y, model):\n"
        "    threading.Thread(target=_spin, daemon=True).start()\n"
        "    X = X.clone().requires_grad_()\n"
        "    model(X).gather(1, y.view(-1, 1)).sum().backward()\n"
        "    return X.grad.abs().amax(dim=1)\n")),
    # Rewrites the grader's modules and torch in the worker, and the files on disk.
    "rewrites-vizgen-modules": ("saliency_to_mask", (
        "import os\n"
        "import torch\n"
        "import vizgen.sandbox.invoke as invoke\n\n"
        "def saliency_to_mask(img, saliency, fg_quantile=0.95, bg_quantile=0.30, iterations=5):\n"
        "    invoke.count_hooks = lambda model: 0\n"
        "    torch.Tensor.amax = lambda self, *a, **k: torch.zeros(1)\n"
        "    torch.Tensor.abs = lambda self: self * 0\n"
        "    with open(invoke.__file__, 'a') as source:  # refused: outside the scratch folder\n"
        "        source.write('\\n# rewritten by a student\\n')\n")),
    # Honest mistakes that change process-wide state.
    "grad-mode-switched-off": ("make_fooling_image", (
        "import torch\n\n"
        "def make_fooling_image(X, target_y, model, max_iter=100, lr=1.0):\n"
        "    torch.set_grad_enabled(False)  # meant: with torch.no_grad():\n"
        "    return X.clone()\n")),
    "default-dtype-changed": ("make_fooling_image", (
        "import torch\n\n"
        "def make_fooling_image(X, target_y, model, max_iter=100, lr=1.0):\n"
        "    torch.set_default_dtype(torch.float64)\n"
        "    torch.manual_seed(0)\n"
        "    return X.clone()\n")),
}

# What the attacked function's failed checks must say (one message of them).
EXPECTED = {
    "native-read-of-solution": "Permission denied",
    "native-read-of-hidden-check": "Permission denied",
    "native-read-of-reference": "Permission denied",
    "native-read-of-judge": "Permission denied",
    "memory-hog": "compute_saliency_maps raised",
    "fork-storm": "grading does not allow student code to fork the process",
    "kills-the-grader": "guided_backprop",
    "giant-return-value": "returned more than 8 MB",
    "deeply-nested-return-value": "RecursionError",
    "thread-left-spinning": None,  # its own checks may pass: only the others must be unaffected
    "rewrites-vizgen-modules": "grading does not allow student code to write",
    "grad-mode-switched-off": "the fooling image is classified as",
    "default-dtype-changed": "the fooling image is classified as",
}

SALIENCY_SOURCE = _SALIENCY
