#!/usr/bin/env python3
"""Synthetic data for srmscope's HTML templates, so the pages can be developed and checked
without the Rust side.

    python3 tools/html_sample.py --networks 5 --frames 162 --out /tmp/demo.html
    python3 tools/html_sample.py --networks 10 --frames 2000 --out /tmp/big.html
    python3 tools/html_sample.py --report --out /tmp/report.html

Fills src/render/html/page.html (format "srmscope-figure", version 1) or report.html
(format "srmscope-report", version 1) the way src/render/html/mod.rs does: the title marker,
then the data marker (JSON with every "</" written "<\\/"), and for the report the player
script cut from page.html between the lines "// BEGIN PLAYER" and "// END PLAYER" (both kept).
Standard library only.
"""

import argparse
import base64
import json
import math
import os
import random
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
HTML_DIR = os.path.join(HERE, "..", "src", "render", "html")

DIGITS = {  # 3x5 bitmap font for the fake thumbnails
    0: "111101101101111", 1: "010110010010111", 2: "111001111100111", 3: "111001111001111",
    4: "101101111001001", 5: "111100111001111", 6: "111100111101111", 7: "111001010010010",
    8: "111101111101111", 9: "111101111001111",
}
NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def hls_palette(n, h, l, s):
    """seaborn's hls_palette, as src/render/style.rs."""
    import colorsys
    out = []
    for i in range(n):
        r, g, b = colorsys.hls_to_rgb((i / n + h) % 1.0, l, s)
        out.append([round(min(1, max(0, x)) * 255) for x in (r, g, b)])
    return out


def b64_f32(values):
    return base64.b64encode(struct.pack("<%df" % len(values), *values)).decode("ascii")


def smooth_fast(xs, w):
    """Moving average with a running sum (O(n))."""
    n = len(xs)
    if w <= 1 or n == 0:
        return xs[:]
    half = w // 2
    pre = [0.0]
    for x in xs:
        pre.append(pre[-1] + x)
    return [(pre[min(n, i + half + 1)] - pre[max(0, i - half)]) / (min(n, i + half + 1) - max(0, i - half))
            for i in range(n)]


def rotation(rng):
    """A random 3x3 rotation (Gram-Schmidt on a Gaussian matrix)."""
    vs = []
    while len(vs) < 3:
        v = [rng.gauss(0, 1) for _ in range(3)]
        for u in vs:
            d = sum(a * b for a, b in zip(v, u))
            v = [a - d * b for a, b in zip(v, u)]
        n = math.sqrt(sum(a * a for a in v))
        if n > 1e-6:
            vs.append([a / n for a in v])
    return vs


def make_figure(rng, m, F, title, classes=10, images=True, channels=1, labels=True, metrics=True,
                style=None, camera=None):
    # Frames are sorted by class (as the app's held-out frames are): one run per class.
    lab = [min(classes - 1, f * classes // F) for f in range(F)] if labels else None
    centres = [[rng.uniform(-0.7, 0.7) for _ in range(3)] for _ in range(classes)]
    ph = [rng.uniform(0, 6.28) for _ in range(6)]
    latent = []
    for f in range(F):
        s = f / max(1, F - 1)
        c = centres[lab[f]] if lab else [0, 0, 0]
        latent.append([c[j] + 0.35 * math.sin(2 * math.pi * (1.5 + j) * s + ph[j])
                       + 0.15 * math.sin(2 * math.pi * (7 + 2 * j) * s + ph[j + 3]) for j in range(3)])
    win = max(3, F // 15)
    latent = list(zip(*[smooth_fast([p[j] for p in latent], win) for j in range(3)]))

    def noise_path(scale):
        return list(zip(*[smooth_fast([rng.gauss(0, scale) for _ in range(F)], max(3, F // 25))
                          for _ in range(3)]))

    before, after = [], []
    for k in range(m):
        R = rotation(rng)
        nb, na = noise_path(0.6), noise_path(0.12)
        sc = rng.uniform(0.6, 1.3)
        off = [rng.uniform(-0.1, 0.1) for _ in range(3)]
        for f in range(F):
            p = latent[f]
            q = [sc * sum(R[i][j] * p[j] for j in range(3)) + nb[f][i] for i in range(3)]
            before.append(q)
            after.append([p[i] + na[f][i] + 0.3 * off[i] for i in range(3)])
    for pts in (before, after):  # scale into [-1, 1] like the app's normalised PCA
        mx = max(abs(v) for p in pts for v in p) or 1.0
        for p in pts:
            p[:] = [v / mx for v in p]
    flat_b = [v for p in before for v in p]
    flat_a = [v for p in after for v in p]

    dis_b = smooth_fast([0.55 + 0.25 * abs(rng.gauss(0, 1)) for _ in range(F)], 5)
    dis_a = smooth_fast([0.08 + 0.05 * abs(rng.gauss(0, 1)) for _ in range(F)], 5)
    image_index = sorted(rng.sample(range(F * 5), F))

    imgs = None
    if images:
        w = h = 16
        count = F
        data = bytearray()
        for i in range(count):
            d = lab[i] % 10 if lab else i % 10
            glyph = DIGITS[d]
            dx, dy = rng.randint(2, 5), rng.randint(0, 2)
            for y in range(h):
                for x in range(w):
                    gx, gy = (x - dx) // 3, (y - dy) // 3
                    on = 0 <= gx < 3 and 0 <= gy < 5 and glyph[gy * 3 + gx] == "1"
                    v = max(0, min(255, (220 if on else 20) + rng.randint(-20, 20)))
                    if channels == 3:
                        data += bytes([v, max(0, v - 60 * (d % 3)), min(255, v + 40 * (d % 2))])
                    else:
                        data.append(v)
        frame_image = [f if f % 37 != 36 else -1 for f in range(F)]  # a few frames without an image
        imgs = {"width": w, "height": h, "channels": channels, "count": count,
                "data": base64.b64encode(bytes(data)).decode("ascii"), "frame_image": frame_image}

    met = None
    if metrics:
        met = {"isc": {"native": 0.031, "shared": 0.971, "native_ci": [0.021, 0.040], "shared_ci": [0.962, 0.979]},
               "rsa": {"native": 0.361, "shared": 0.999, "native_ci": None, "shared_ci": [0.998, 0.999]},
               "k": 128, "algo": "prob SRM", "n_train": 647, "n_test": F}
    st = {"dark": False, "ghost": "none", "tail": max(1, F // 10), "cube": False, "legend": True,
          "color_by_label": False, "line_width": 1.0, "view": "after", "layout": "side-by-side",
          "width": 960, "height": 640}
    st.update(style or {})
    cam = {"yaw": -60, "pitch": 10, "zoom": 1}
    cam.update(camera or {})
    return {
        "format": "srmscope-figure", "version": 1, "title": title,
        "n_networks": m, "n_frames": F,
        "networks": [{"name": "seed%d" % k, "color": c} for k, c in enumerate(hls_palette(m, 0.01, 0.6, 0.65))],
        "before": b64_f32(flat_b), "after": b64_f32(flat_a),
        "image_index": image_index,
        "labels": lab,
        "class_names": {str(c): NAMES[c % 10] for c in range(classes)} if labels else None,
        "class_colors": hls_palette(classes, 0.01, 0.5, 0.75) if labels else None,
        "disagreement_before": b64_f32(dis_b), "disagreement_after": b64_f32(dis_a),
        "evr_before": [0.068, 0.064, 0.060], "evr_after": [0.230, 0.209, 0.147],
        "images": imgs, "metrics": met, "style": st, "camera": cam,
        "playback": {"fps": 25, "duration": 10},
    }


def png(width, height, pixel):
    """An RGB PNG from pixel(x, y) -> (r, g, b)."""
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        for x in range(width):
            raw += bytes(pixel(x, y))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b""))


def viridis(t):
    stops = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
    t = min(1, max(0, t)) * (len(stops) - 1)
    i = min(len(stops) - 2, int(t))
    u = t - i
    return tuple(round(a + (b - a) * u) for a, b in zip(stops[i], stops[i + 1]))


def heatmap_png(values, cell=40):
    rows, cols = len(values), len(values[0])
    lo = min(min(r) for r in values)
    hi = max(max(r) for r in values)

    def px(x, y):
        if x % cell == 0 or y % cell == 0:
            return (255, 255, 255)
        v = values[y // cell][x // cell]
        return viridis((v - lo) / ((hi - lo) or 1))
    return png(cols * cell + 1, rows * cell + 1, px)


def lines_png(series, w=320, h=160):
    cols = hls_palette(len(series), 0.01, 0.5, 0.75)
    img = [[(255, 255, 255)] * w for _ in range(h)]
    for y in (h // 4, h // 2, 3 * h // 4):
        img[y] = [(235, 235, 238)] * w
    for s, c in zip(series, cols):
        n = len(s)
        for x in range(w):
            t = x / (w - 1) * (n - 1)
            i = min(n - 2, int(t))
            v = s[i] + (s[i + 1] - s[i]) * (t - i)
            y = int((1 - v) * (h - 10)) + 5
            for dy in (-1, 0, 1):
                if 0 <= y + dy < h:
                    img[y + dy][x] = tuple(c)
    return png(w, h, lambda x, y: img[y][x])


def make_report(rng, m, F, images):
    archs, layers, ckpts = ["cnn", "mlp"], ["l1", "l2", "l3"], ["e1", "e5", "e30"]
    cells, rows = [], []
    isc = {}
    for a in archs:
        for li, l in enumerate(layers):
            for ci, c in enumerate(ckpts):
                cid = "%s/%s/%s" % (a, l, c)
                v_n = round(0.02 + 0.05 * rng.random(), 3)
                v_s = round(min(0.99, 0.5 + 0.12 * li + 0.1 * ci + 0.05 * rng.random()), 3)
                r_n = round(0.2 + 0.2 * rng.random(), 3)
                r_s = round(min(0.999, 0.7 + 0.08 * li + 0.05 * ci), 3)
                isc[(a, l, c)] = v_s
                rows.append([a, l, c, v_n, v_s, r_n, r_s if cid != "mlp/l3/e1" else None])
                fig = make_figure(rng, m, F, "%s · prob SRM, k = 64" % cid, images=images and a == "cnn",
                                  metrics=True, style={"cube": li == 0, "ghost": ["none", "chemtrails", "bullettime"][ci]})
                fig["metrics"]["isc"]["shared"] = v_s
                fig["metrics"]["isc"]["native"] = v_n
                cells.append({"id": cid, "arch": a, "layer": l, "checkpoint": c, "figure": fig})
    figures = []
    for a in archs:
        figures.append({"title": "ISC shared: layer × checkpoint (%s)" % a,
                        "png": base64.b64encode(heatmap_png([[isc[(a, l, c)] for c in ckpts] for l in layers])).decode()})
    figures.append({"title": "Development: ISC shared by checkpoint",
                    "png": base64.b64encode(lines_png([[isc[(a, l, c)] for c in ckpts] for a in archs for l in layers])).decode()})
    return {"format": "srmscope-report", "version": 1, "title": "digits-study · prob SRM",
            "note": "frames subsampled to at most %d per cell to keep the page under 5 MB" % F,
            "figures": figures,
            "table": {"columns": ["arch", "layer", "checkpoint", "isc_native", "isc_shared", "rsa_native", "rsa_shared"],
                      "rows": rows},
            "cells": cells}


def script_json(v):
    return (json.dumps(v, ensure_ascii=False, separators=(",", ":"))
            .replace("</", "<\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def html_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def player_js(page):
    s, e = page.find("// BEGIN PLAYER"), page.find("// END PLAYER")
    if s < 0 or e < s:
        sys.exit("page.html has no // BEGIN PLAYER ... // END PLAYER block")
    return page[s:e + len("// END PLAYER")]


def fill(template, data, title, page=None):
    for marker in ("__SRMSCOPE_DATA__", "__SRMSCOPE_TITLE__"):
        if template.count(marker) != 1:
            sys.exit("template: expected exactly one %s, found %d" % (marker, template.count(marker)))
    out = template.replace("__SRMSCOPE_TITLE__", html_escape(title), 1)
    out = out.replace("__SRMSCOPE_DATA__", script_json(data), 1)
    if page is not None:
        out = out.replace("__SRMSCOPE_PLAYER_JS__", player_js(page), 1)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--networks", type=int, default=5)
    ap.add_argument("--frames", type=int, default=None, help="frames (default 162; 120 per cell with --report)")
    ap.add_argument("--out", default="/tmp/demo.html")
    ap.add_argument("--report", action="store_true", help="fill report.html with a synthetic study")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--title", default="demo:convnet · prob SRM, k = 128")
    ap.add_argument("--dark", action="store_true")
    ap.add_argument("--ghost", default="none", choices=["none", "chemtrails", "precog", "bullettime"])
    ap.add_argument("--tail", type=int, default=None)
    ap.add_argument("--cube", action="store_true")
    ap.add_argument("--no-legend", action="store_true")
    ap.add_argument("--color-by-label", action="store_true")
    ap.add_argument("--view", default="after", choices=["before", "after", "both"])
    ap.add_argument("--layout", default="side-by-side", choices=["side-by-side", "sequence"])
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--no-images", action="store_true")
    ap.add_argument("--rgb", action="store_true", help="3-channel thumbnails")
    ap.add_argument("--no-labels", action="store_true")
    ap.add_argument("--no-metrics", action="store_true")
    ap.add_argument("--template", default=None, help="template to fill (default page.html or report.html)")
    ap.add_argument("--page", default=os.path.join(HTML_DIR, "page.html"), help="page.html, for the player script")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    page = open(a.page, encoding="utf-8").read()
    if a.report:
        data = make_report(rng, a.networks, a.frames or 120, not a.no_images)
        template = open(a.template or os.path.join(HTML_DIR, "report.html"), encoding="utf-8").read()
        html = fill(template, data, data["title"], page)
    else:
        F = a.frames or 162
        style = {"dark": a.dark, "ghost": a.ghost, "cube": a.cube, "legend": not a.no_legend,
                 "color_by_label": a.color_by_label, "view": a.view, "layout": a.layout}
        if a.tail is not None:
            style["tail"] = a.tail
        data = make_figure(rng, a.networks, F, a.title, classes=a.classes, images=not a.no_images,
                           channels=3 if a.rgb else 1, labels=not a.no_labels, metrics=not a.no_metrics,
                           style=style)
        template = open(a.template, encoding="utf-8").read() if a.template else page
        html = fill(template, data, a.title or "srmscope figure")
    with open(a.out, "w", encoding="utf-8") as f:
        f.write(html)
    print("%s: %d bytes" % (a.out, len(html.encode("utf-8"))))


if __name__ == "__main__":
    main()
