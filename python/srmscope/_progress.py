"""A tqdm bar for long calls: shown once a call has run for a second, when tqdm is installed."""
import time


class Progress:
    """The callback the engine calls every 50 ms: (stage, fraction, iteration, n_iter, objective)."""

    def __init__(self, enabled=True, desc="srmscope"):
        self.enabled = bool(enabled)
        self.desc = desc
        self.t0 = time.monotonic()
        self.bar = None

    def __call__(self, stage, fraction, iteration, n_iter, objective):
        if not self.enabled:
            return
        if self.bar is None:
            if time.monotonic() - self.t0 < 1.0:
                return
            try:
                from tqdm.auto import tqdm
            except ImportError:
                self.enabled = False
                return
            self.bar = tqdm(total=1000, desc=self.desc, leave=False,
                            bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed} {postfix}")
        self.bar.n = int(max(0.0, min(1.0, fraction)) * 1000)
        post = stage
        if iteration is not None and n_iter:
            post += " %d/%d" % (iteration, n_iter)
        if objective is not None:
            post += " objective %.6g" % objective
        self.bar.set_postfix_str(post, refresh=False)
        self.bar.refresh()

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def callback(progress, desc):
    """``progress`` as the user gave it: True/False, or their own callable."""
    if callable(progress):
        return progress
    return Progress(progress, desc)
