"""Attacks on the integrity of a grade, as solution-cell replacements of the network visualization notebook.

Each targets one class of the threat: reading the grader's environment (directly and through other
processes' ``/proc`` entries), starting a process that outlives grading (every way Python offers,
the low-level ones included, in a session of its own), code that runs when a definition is made,
and values carrying the wire protocol's reserved tags.
"""

PLANTED = "VIZGEN_PLANTED_SECRET"  # set in the grader's environment by the tests
SECRET = "s3cret-token-4c9f1e"  # its value: must never reach any output
ESCAPEE = "vzescapee"  # the process name an escaped child takes (prctl PR_SET_NAME), looked for afterwards

_SALIENCY_BODY = (
    "    X = X.clone().requires_grad_()\n"
    "    model(X).gather(1, y.view(-1, 1)).sum().backward()\n"
    "    return X.grad.abs().amax(dim=1)\n"
)

# Looks everywhere a grader's secret could be: its own environment, every visible process's environ and
# command line. Says what it found in its error message (the channel a student reads back).
SNOOP = ("compute_saliency_maps", (
    "import os\n\n"
    "def compute_saliency_maps(X, y, model):\n"
    "    seen = [' '.join(f'{k}={v}' for k, v in os.environ.items())]\n"
    "    for pid in os.listdir('/proc'):\n"
    "        if pid.isdigit():\n"
    "            for what in ('environ', 'cmdline'):\n"
    "                try:\n"
    "                    seen.append(open(f'/proc/{pid}/{what}', 'rb').read().decode(errors='replace'))\n"
    "                except OSError:\n"
    "                    pass\n"
    "    text = ' '.join(seen)\n"
    f"    hits = [word for word in text.replace(chr(0), ' ').split() if '{SECRET}' in word or '{PLANTED}' in word]\n"
    "    raise ValueError('found: ' + (' '.join(hits) or 'nothing') + f' in {len(seen)} places')\n"))

_NAME_AND_LINGER = (
    "def _linger():\n"
    "    import time\n"
    "    from landlockpy import _syscall\n"
    f"    _syscall._get_libc().prctl(15, b'{ESCAPEE}', 0, 0, 0)  # PR_SET_NAME, through a libc bound before the hooks\n"
    "    time.sleep(120)\n\n"
)

# Starts a lingering child every way it can, each in a session of its own, and reports how each went.
ESCAPE = ("occlusion_map", (
    "import os\n"
    "import subprocess\n"
    "import _posixsubprocess\n\n" + _NAME_AND_LINGER +
    "def occlusion_map(X, y, model, patch_size=32, stride=16, fill=0.0, batch_size=64):\n"
    "    tried = []\n"
    "    def attempt(name, start):\n"
    "        try:\n"
    "            tried.append(f'{name}: started {start()}')\n"
    "        except BaseException as error:\n"
    "            tried.append(f'{name}: {type(error).__name__}')\n"
    "    def low_level():\n"
    "        args = ([b'/bin/true'], [b'/bin/true'], True, (), None, None, -1, -1, -1, -1, -1, -1, *os.pipe(),\n"
    "                False, True, -1, None, None, None, -1, _linger, False)\n"
    "        return _posixsubprocess.fork_exec(*args)\n"
    "    def raw_fork():\n"
    "        from landlockpy import _syscall\n"
    "        pid = _syscall._get_libc().syscall(57)\n"
    "        if pid == 0:\n"
    "            os.setsid()\n"
    "            _linger()\n"
    "        return pid\n"
    "    def python_fork():\n"
    "        pid = os.fork()\n"
    "        if pid == 0:\n"
    "            os.setsid()\n"
    "            _linger()\n"
    "        return pid\n"
    "    attempt('fork_exec', low_level)\n"
    "    attempt('raw fork', raw_fork)\n"
    "    attempt('os.fork', python_fork)\n"
    "    attempt('popen', lambda: subprocess.Popen(['/bin/sleep', '120'], start_new_session=True).pid)\n"
    "    attempt('posix_spawn', lambda: os.posix_spawn('/bin/sleep', ['sleep', '120'], {}, setsid=True))\n"
    "    raise ValueError('; '.join(tried))\n"))

# A helper class whose body (run when the definition is made) kills the process: only the function
# that uses the helper may lose points.
DEFINITION_TIME = ("guided_backprop", (
    "import os\n"
    "from torch import nn\n\n"
    "class _Clamp:\n"
    "    os._exit(3)  # runs when the class is defined\n\n"
    "def guided_backprop(X, y, model):\n"
    "    return _Clamp\n"))

# Returns data that looks like the wire protocol's own tags.
RESERVED_TAGS = ("saliency_to_mask", (
    "def saliency_to_mask(img, saliency, fg_quantile=0.95, bg_quantile=0.30, iterations=5):\n"
    "    return {'__tuple__': [1, 2], '__model__': {'name': 'classifier'}}\n"))

ATTACKS = {"snoop": SNOOP, "escape": ESCAPE, "definition-time": DEFINITION_TIME, "reserved-tags": RESERVED_TAGS}

# What each attack's function must fail with (one of its failed checks says it).
EXPECTED = {
    "snoop": "found: nothing",
    "escape": "fork_exec: PermissionError",
    "definition-time": "guided_backprop",
    "reserved-tags": "which grading reserves",
}
