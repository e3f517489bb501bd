"""The boundary's promises: Ctrl-C in time, nothing left behind, no copies, no aborts."""
import os
import signal
import threading
import time

import numpy as np
import pytest

import srmscope
from srmscope import _core


def interrupt_after(seconds):
    """SIGINT to this process after `seconds`; returns a list that receives the send time."""
    sent = []

    def fire():
        time.sleep(seconds)
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=fire, daemon=True).start()
    return sent


def big_networks(m=6, n=3000, v=400, seed=0):
    rng = np.random.default_rng(seed)
    return {"net%d" % i: rng.standard_normal((n, v)) for i in range(m)}


def test_keyboard_interrupt_during_srm_fit_within_half_a_second():
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((300, 4000)) for _ in range(6)]
    sent = interrupt_after(0.5)
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        srmscope.SRM(features=300, n_iter=100000, progress=False).fit(xs)
    raised = time.monotonic()
    assert sent, "the fit finished before the interrupt"
    assert raised - sent[0] < 0.5, "KeyboardInterrupt took %.2f s" % (raised - sent[0])
    assert raised - t0 > 0.4


def test_keyboard_interrupt_during_fit_pipeline():
    nets = big_networks()
    sent = interrupt_after(0.6)
    with pytest.raises(KeyboardInterrupt):
        srmscope.fit(nets, iters=100000, progress=False)
    assert sent and time.monotonic() - sent[0] < 0.5


def test_interrupted_export_leaves_no_file(tmp_path):
    f = srmscope.fit("demo:convnet", k=10, bootstrap=0, progress=False)
    out = tmp_path / "fig.gif"
    sent = interrupt_after(0.4)
    with pytest.raises(KeyboardInterrupt):
        f.to_gif(out, frames=100000, size=(640, 480), progress=False)
    assert sent and time.monotonic() - sent[0] < 0.5
    assert list(tmp_path.iterdir()) == [], "left behind: %s" % list(tmp_path.iterdir())


def test_float64_is_read_in_place_and_results_are_not_copied():
    x = np.random.default_rng(0).standard_normal((50, 20))
    assert _core.reads_in_place(x)
    assert _core.reads_in_place(np.asfortranarray(x))
    assert _core.reads_in_place(x[::2, ::3])
    assert not _core.reads_in_place(x.astype(np.float32))
    m = srmscope.SRM(features=5, progress=False).fit([x.T, x.T[::-1].copy()])
    # Fitted arrays are the engine's own buffers handed to numpy, not copies of them.
    for a in [m.s_, m.sigma_s_, m.rho2_] + list(m.w_) + list(m.mu_):
        assert not a.flags.owndata and a.base is not None
        assert type(a.base).__name__ == "PySliceContainer"


def test_float32_input_matches_float64():
    rng = np.random.default_rng(5)
    xs = [rng.standard_normal((30, 80)).astype(np.float32) for _ in range(3)]
    a = srmscope.SRM(features=4, progress=False).fit(xs)
    b = srmscope.SRM(features=4, progress=False).fit([x.astype(np.float64) for x in xs])
    np.testing.assert_array_equal(a.s_, b.s_)


def test_progress_callback_sees_iterations():
    seen = []
    rng = np.random.default_rng(2)
    xs = [rng.standard_normal((200, 3000)) for _ in range(4)]
    srmscope.SRM(features=100, n_iter=30, progress=lambda *a: seen.append(a)).fit(xs)
    assert seen, "no progress event in a multi-second fit"
    assert all(s[0] == "fitting" for s in seen)


def test_view_without_display_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(srmscope.ViewerUnavailable, match="no display"):
        srmscope.view("demo:convnet")


def test_view_opens_the_native_viewer_in_its_own_process(tmp_path):
    import shutil
    import subprocess
    from conftest import need
    need(shutil.which("Xvfb") is not None, "Xvfb is not installed")
    display = ":%d" % (90 + os.getpid() % 50)
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        env_display = os.environ.get("DISPLAY")
        os.environ["DISPLAY"] = display
        try:
            f = srmscope.fit("demo:convnet", k=10, bootstrap=0, progress=False)
            t0 = time.monotonic()
            proc = f.view()
            assert time.monotonic() - t0 < 5, "view() must return at once"
            time.sleep(2.0)
            assert proc.poll() is None, "the viewer exited"
            proc.terminate()
            proc.wait(timeout=10)
        finally:
            if env_display is None:
                os.environ.pop("DISPLAY", None)
            else:
                os.environ["DISPLAY"] = env_display
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)
