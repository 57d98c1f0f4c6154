#!/usr/bin/env python3
"""Reference timings for bench/enhance.ts: numpy + OpenCV doing exactly what lib/enhance does, on one core.

    enhance_ref.py images <json spec>     per-image timings on raw RGB files the TypeScript side wrote
    enhance_ref.py dataset <list file>    decode (cv2.imread) + resize 224 + enhance over a list of files

Prints one JSON object on stdout.
"""
import json
import sys
import time

import cv2
import numpy as np

cv2.setNumThreads(1)


def white_balance(img):
    out = np.empty_like(img)
    for c in range(img.shape[2]):
        ch = img[:, :, c]
        low = np.percentile(ch, 0.05)
        high = np.percentile(ch, 99.95)
        if high == low:
            out[:, :, c] = ch
            continue
        out[:, :, c] = np.clip((ch - low) * 255 / (high - low), 0, 255).astype(np.uint8)
    return out


CLAHE = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(16, 16))


def enhance(rgb):
    return CLAHE.apply(cv2.cvtColor(white_balance(rgb), cv2.COLOR_RGB2GRAY))


def best_ms(fn, arg, iterations, rounds):
    """CPU milliseconds per call of the fastest of `rounds` batches (as bench/enhance.ts measures ours)."""
    for _ in range(min(iterations, 20)):
        fn(arg)
    best = float('inf')
    for _ in range(rounds):
        t = time.process_time()
        for _ in range(iterations):
            fn(arg)
        best = min(best, (time.process_time() - t) * 1000 / iterations)
    return best


def images(spec):
    result = {}
    for item in spec['images']:
        w, h = item['width'], item['height']
        rgb = np.fromfile(item['file'], dtype=np.uint8).reshape(h, w, 3)
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        result[f'{w}x{h}'] = {
            'enhance': best_ms(enhance, rgb, item['iterations'], spec['rounds']),
            'clahe': best_ms(CLAHE.apply, grey, item['iterations'], spec['rounds']),
        }
    return result


def dataset(list_file):
    files = [line for line in open(list_file).read().split('\n') if line]
    t = time.perf_counter()
    done = 0
    for f in files:
        img = cv2.imread(f, cv2.IMREAD_COLOR)
        if img is None:
            continue
        rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        enhance(cv2.resize(rgb, (224, 224), interpolation=cv2.INTER_LANCZOS4))
        done += 1
    return {'images': done, 'seconds': time.perf_counter() - t}


def main():
    mode, arg = sys.argv[1], sys.argv[2]
    out = images(json.load(open(arg))) if mode == 'images' else dataset(arg)
    out['versions'] = {'numpy': np.__version__, 'opencv': cv2.__version__}
    print(json.dumps(out))


if __name__ == '__main__':
    main()
