#!/usr/bin/env python3
"""Golden outputs for lib/enhance, made with numpy and OpenCV (the references the TypeScript must match).

    .venv/bin/python scripts/make_enhance_goldens.py                 # committed goldens -> test/fixtures/enhance
    .venv/bin/python scripts/make_enhance_goldens.py --random 12 --seed 7 --out DIR   # fresh random cases
    .venv/bin/python scripts/make_enhance_goldens.py --rgb-inputs LIST.json --out DIR # cases on given RGB images

Writes raw 8-bit images (row-major, channels interleaved) as <name>.bin and an index.json listing images
and cases. Case kinds:
  percentile   numpy percentile(ch, 0.05) and (ch, 99.95) per channel of an image (floats, exact in JSON)
  whiteBalance the study's white balance (numpy), RGB in -> RGB out
  grey         cv2.cvtColor(rgb, COLOR_RGB2GRAY)
  clahe        cv2.createCLAHE(clipLimit, tileGridSize=(columns, rows)).apply(grey)
  pipeline     white balance (optional) -> RGB2GRAY -> CLAHE (optional)
"""
import argparse
import json
import os
import sys

import cv2
import numpy as np

PERCENTILES = (0.05, 99.95)


def study_white_balance(img):
    """The study's white balance, except that a channel with high == low is left unchanged."""
    out = np.empty_like(img)
    for c in range(img.shape[2]):
        ch = img[:, :, c]
        low = np.percentile(ch, PERCENTILES[0])
        high = np.percentile(ch, PERCENTILES[1])
        if high == low:
            out[:, :, c] = ch
            continue
        out[:, :, c] = np.floor(np.clip((ch - low) * 255 / (high - low), 0, 255)).astype(np.uint8)
    return out


def reference_clahe(grey, clip, grid):
    return cv2.createCLAHE(clipLimit=float(clip), tileGridSize=(int(grid[0]), int(grid[1]))).apply(grey)


def reference_pipeline(rgb, wb, clahe):
    img = study_white_balance(rgb) if wb else rgb
    grey = cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2GRAY)
    return reference_clahe(grey, clahe[0], clahe[1]) if clahe else grey


# --- synthetic images ------------------------------------------------------------------------------

def chest_like(rng, h, w, channels):
    """Smooth low-contrast structure plus noise, roughly what an X-ray's histogram looks like."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    cy, cx = h / 2, w / 2
    base = 90 + 50 * np.exp(-(((yy - cy) / (0.35 * h + 1)) ** 2 + ((xx - cx) / (0.3 * w + 1)) ** 2))
    base += 25 * np.sin(xx / (w / 7 + 1)) * np.cos(yy / (h / 5 + 1))
    chans = []
    for c in range(channels):
        tint = rng.uniform(-15, 15) if channels > 1 else 0
        chans.append(base + tint + rng.normal(0, 6, (h, w)))
    img = np.stack(chans, axis=2)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def noise(rng, h, w, channels, lo=0, hi=256):
    return rng.integers(lo, hi, (h, w, channels), dtype=np.uint8)


def skewed(rng, h, w, channels):
    """Mostly dark with rare bright outliers: the percentiles fall between different order statistics."""
    img = rng.integers(10, 40, (h, w, channels)).astype(np.uint8)
    mask = rng.random((h, w, channels)) < 0.002
    img[mask] = rng.integers(200, 256, int(mask.sum())).astype(np.uint8)
    return img


def random_image(rng, h, w, channels):
    kind = rng.integers(0, 4)
    if kind == 0:
        return chest_like(rng, h, w, channels)
    if kind == 1:
        return noise(rng, h, w, channels)
    if kind == 2:
        return skewed(rng, h, w, channels)
    lo = int(rng.integers(0, 200))
    return noise(rng, h, w, channels, lo, lo + int(rng.integers(1, 56)))


# --- writing ---------------------------------------------------------------------------------------

class Goldens:
    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.images = {}
        self.cases = []
        os.makedirs(out_dir, exist_ok=True)

    def image(self, name, img):
        img = np.ascontiguousarray(img, dtype=np.uint8)
        if img.ndim == 2:
            img = img[:, :, None]
        h, w, c = img.shape
        file = f'{name}.bin'
        with open(os.path.join(self.out_dir, file), 'wb') as f:
            f.write(img.tobytes())
        self.images[name] = {'file': file, 'width': w, 'height': h, 'channels': c}
        return name

    def case(self, kind, input_name, output=None, **params):
        entry = {'kind': kind, 'input': input_name, **params}
        if output is not None:
            entry['output'] = self.image(f'{kind}-{len(self.cases):03d}', output)
        self.cases.append(entry)

    def add_colour(self, name, rgb):
        self.image(name, rgb)
        lows, highs = [], []
        for c in range(rgb.shape[2]):
            lows.append(float(np.percentile(rgb[:, :, c], PERCENTILES[0])))
            highs.append(float(np.percentile(rgb[:, :, c], PERCENTILES[1])))
        self.case('percentile', name, low=lows, high=highs)
        self.case('whiteBalance', name, study_white_balance(rgb))
        if rgb.shape[2] == 3:
            self.case('grey', name, cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))

    def add_clahe(self, name, grey, combos):
        for clip, grid in combos:
            self.case('clahe', name, reference_clahe(grey, clip, grid), clipLimit=clip, tileGrid=list(grid))

    def write(self):
        index = {
            'generator': 'scripts/make_enhance_goldens.py',
            'numpy': np.__version__,
            'opencv': cv2.__version__,
            'images': self.images,
            'cases': self.cases,
        }
        with open(os.path.join(self.out_dir, 'index.json'), 'w') as f:
            json.dump(index, f, indent=1)
            f.write('\n')
        total = sum(os.path.getsize(os.path.join(self.out_dir, m['file'])) for m in self.images.values())
        print(f'{len(self.cases)} cases, {len(self.images)} images, {total / 1e6:.2f} MB in {self.out_dir}', file=sys.stderr)


GRIDS = [(1, 1), (2, 2), (8, 8), (16, 16), (3, 5)]
CLIPS = [0.5, 2.0, 4.0, 40.0, 0.0]


def committed(out_dir):
    rng = np.random.default_rng(20240601)
    g = Goldens(out_dir)

    # Colour inputs: percentiles, white balance, grey, and the whole pipeline.
    colour = {
        'rgb-1x1': noise(rng, 1, 1, 3),
        'rgb-7x5': noise(rng, 5, 7, 3),
        'rgb-chest-64x48': chest_like(rng, 48, 64, 3),
        'rgb-skewed-61x37': skewed(rng, 37, 61, 3),
        'rgb-chest-224x224': chest_like(rng, 224, 224, 3),
        'rgb-noise-300x257': noise(rng, 257, 300, 3),
    }
    const_channel = chest_like(rng, 30, 40, 3)
    const_channel[:, :, 1] = 77  # high == low in one channel only
    colour['rgb-constchannel-40x30'] = const_channel
    colour['rgb-constant-9x9'] = np.full((9, 9, 3), 200, np.uint8)
    for name, rgb in colour.items():
        g.add_colour(name, rgb)
    for name in ['rgb-1x1', 'rgb-7x5', 'rgb-chest-64x48', 'rgb-constchannel-40x30', 'rgb-constant-9x9']:
        for wb in (True, False):
            for cl in ((2.0, (16, 16)), (4.0, (3, 5)), None):
                g.case('pipeline', name, reference_pipeline(colour[name], wb, cl), whiteBalance=wb,
                       clahe=None if cl is None else {'clipLimit': cl[0], 'tileGrid': list(cl[1])})
    for name in ['rgb-chest-224x224', 'rgb-noise-300x257']:
        g.case('pipeline', name, reference_pipeline(colour[name], True, (2.0, (16, 16))), whiteBalance=True,
               clahe={'clipLimit': 2.0, 'tileGrid': [16, 16]})

    # CLAHE on grey inputs: every grid x clip on small images, a selection on the larger ones.
    small = {
        'grey-1x1': noise(rng, 1, 1, 1)[:, :, 0],
        'grey-7x5': noise(rng, 5, 7, 1)[:, :, 0],
        'grey-constant-20x12': np.full((12, 20), 131, np.uint8),
        'grey-chest-64x48': chest_like(rng, 48, 64, 1)[:, :, 0],
        'grey-skewed-33x70': skewed(rng, 70, 33, 1)[:, :, 0],
    }
    for name, grey in small.items():
        g.image(name, grey)
        g.add_clahe(name, grey, [(c, gr) for gr in GRIDS for c in CLIPS])
    large = {
        'grey-chest-224x224': chest_like(rng, 224, 224, 1)[:, :, 0],
        'grey-chest-300x257': chest_like(rng, 257, 300, 1)[:, :, 0],
        'grey-noise-256x250': noise(rng, 250, 256, 1)[:, :, 0],  # width divisible by 16, height not
    }
    for name, grey in large.items():
        g.image(name, grey)
        g.add_clahe(name, grey, [(2.0, (16, 16)), (40.0, (8, 8)), (0.5, (3, 5)), (4.0, (1, 1)), (2.0, (2, 2))])
    g.write()


def random_cases(out_dir, count, seed):
    """Random sizes, contents, grids and clip limits: exactness beyond the committed cases."""
    rng = np.random.default_rng(seed)
    g = Goldens(out_dir)
    for i in range(count):
        w, h = (int(v) for v in rng.integers(1, 160, 2))
        rgb = random_image(rng, h, w, 3)
        name = g.image(f'random-{i}', rgb)
        lows = [float(np.percentile(rgb[:, :, c], PERCENTILES[0])) for c in range(3)]
        highs = [float(np.percentile(rgb[:, :, c], PERCENTILES[1])) for c in range(3)]
        g.case('percentile', name, low=lows, high=highs)
        g.case('whiteBalance', name, study_white_balance(rgb))
        g.case('grey', name, cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
        grid = (int(rng.integers(1, 21)), int(rng.integers(1, 21)))
        clip = float(rng.choice([0.0, 0.5, 1.0, 2.0, 3.7, 10.0, 40.0, round(float(rng.uniform(0.01, 8)), 3)]))
        grey = random_image(rng, h, w, 1)[:, :, 0]
        gname = g.image(f'random-grey-{i}', grey)
        g.add_clahe(gname, grey, [(clip, grid)])
        g.case('pipeline', name, reference_pipeline(rgb, True, (clip, grid)), whiteBalance=True,
               clahe={'clipLimit': clip, 'tileGrid': list(grid)})
    g.write()


def given_inputs(out_dir, list_file):
    """Cases on raw RGB images another program wrote (e.g. real X-rays decoded by the TypeScript side):
    the study's settings plus a coarse and an uneven grid."""
    g = Goldens(out_dir)
    for i, item in enumerate(json.load(open(list_file))):
        rgb = np.fromfile(item['file'], dtype=np.uint8).reshape(item['height'], item['width'], 3)
        name = f'given-{i}'
        g.add_colour(name, rgb)
        g.case('pipeline', name, reference_pipeline(rgb, True, (2.0, (16, 16))), whiteBalance=True,
               clahe={'clipLimit': 2.0, 'tileGrid': [16, 16]})
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        gname = g.image(f'given-grey-{i}', grey)
        g.add_clahe(gname, grey, [(2.0, (16, 16)), (40.0, (8, 8)), (3.0, (7, 5))])
    g.write()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default=os.path.normpath(os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'enhance')))
    ap.add_argument('--random', type=int, default=0, metavar='N', help='write N random cases instead of the committed set')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--rgb-inputs', metavar='LIST.json', help='JSON list of {file, width, height} raw RGB images to make cases for')
    args = ap.parse_args()
    cv2.setNumThreads(1)
    if args.rgb_inputs:
        given_inputs(args.out, args.rgb_inputs)
    elif args.random:
        random_cases(args.out, args.random, args.seed)
    else:
        committed(args.out)


if __name__ == '__main__':
    main()
