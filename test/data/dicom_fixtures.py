"""Synthetic DICOM test files (never real X-rays) and the reference display of each.

Usage: dicom_fixtures.py OUT [--jpeg FILE.jpg]

Writes OUT/<case>.dcm and, for images, OUT/<case>.ref (8-bit grey, row-major): pydicom's
apply_modality_lut + apply_voi_lut, scaled onto 0-255 the way apply_windowing's output range is
defined (VOI LUT: its nominal bit depth; no VOI: min-max), MONOCHROME1 inverted. OUT/cases.json lists
every case: {name, file, width, height, frames, ref | error}. Compressed files are encoded here with
an encoder independent of the decoder under test (imagecodecs; pydicom's own RLE encoder), with
--jpeg a baseline JPEG made by the caller (sharp) is encapsulated as given. Every file carries the
canary patient data (CANARY...) that must never appear in any output. OUT/data/ is a class-folder
data set of DICOM files (see data_folder).
"""
import json
import sys
from pathlib import Path

import imagecodecs
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.pixels import apply_modality_lut, apply_voi_lut
from pydicom.sequence import Sequence
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
    generate_uid,
)

W, H = 40, 32
CANARY = {
    "PatientName": "CANARY^PHI",
    "PatientBirthDate": "19010101",
    "AccessionNumber": "CANARYACC1",
    "InstitutionName": "CANARY HOSPITAL",
    "InstitutionAddress": "1 CANARY STREET",
    "ReferringPhysicianName": "CANARY^DOCTOR",
}
DX_IMAGE = "1.2.840.10008.5.1.4.1.1.1.1"
BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11"


def pattern(lo, hi, seed, frames=1):
    """A smooth gradient plus noise spanning lo..hi (inclusive), like a radiograph's range."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:H, 0:W]
    base = (x / (W - 1)) * 0.7 + (y / (H - 1)) * 0.3
    shape = (frames, H, W) if frames > 1 else (H, W)
    noisy = base + rng.normal(0, 0.08, size=shape)
    noisy = (noisy - noisy.min()) / (noisy.max() - noisy.min())
    return np.round(lo + noisy * (hi - lo)).astype(np.int64)


def dataset(arr, bits_stored, signed=False, photometric="MONOCHROME2", syntax=ExplicitVRLittleEndian, patient="CANARY-PID-0001", **extra):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = DX_IMAGE
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = DX_IMAGE
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "DX"
    ds.BodyPartExamined = "CHEST"
    ds.ViewPosition = "PA"
    ds.PatientAge = "045Y"
    ds.Manufacturer = "SYNTHETIC"
    ds.StationName = "TESTRIG"
    ds.PatientID = patient
    for k, v in CANARY.items():
        setattr(ds, k, v)
    allocated = 8 if bits_stored <= 8 else 16
    frames = arr.shape[0] if arr.ndim == 3 else 1
    ds.Rows, ds.Columns = H, W
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = allocated
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    if frames > 1:
        ds.NumberOfFrames = frames
    dtype = {(8, False): np.uint8, (8, True): np.int8, (16, False): np.uint16, (16, True): np.int16}[(allocated, signed)]
    raw = arr.astype(dtype)
    if signed and bits_stored < allocated:
        # Two's complement in bits_stored bits, the bits above HighBit zero, as a writer may leave them.
        raw = (arr.astype(np.int64) & ((1 << bits_stored) - 1)).astype(np.uint16).view(np.int16)
    ds.PixelData = raw.tobytes()
    for k, v in extra.items():
        setattr(ds, k, v)
    return ds


def lut_item(first, bits, data):
    item = Dataset()
    item.LUTDescriptor = [len(data) if len(data) < 65536 else 0, first, bits]
    item.LUTData = np.asarray(data, dtype="<u2").tobytes()
    return item


def reference(ds, arr):
    """pydicom's display pipeline onto 0..255 (see the module docstring)."""
    first = arr[0] if arr.ndim == 3 else arr
    m = apply_modality_lut(first, ds)
    v = apply_voi_lut(m, ds).astype(np.float64)
    if "VOILUTSequence" in ds:
        g = v / (2 ** ds.VOILUTSequence[0].LUTDescriptor[2] - 1) * 255
    elif "WindowCenter" in ds:
        # The output range pydicom's apply_windowing maps the window onto.
        if "ModalityLUTSequence" in ds:
            y_min, y_max = 0, 2 ** ds.ModalityLUTSequence[0].LUTDescriptor[2] - 1
        elif ds.PixelRepresentation == 0:
            y_min, y_max = 0, 2**ds.BitsStored - 1
        else:
            y_min, y_max = -(2 ** (ds.BitsStored - 1)), 2 ** (ds.BitsStored - 1) - 1
        if "RescaleSlope" in ds and "RescaleIntercept" in ds:
            y_min = y_min * ds.RescaleSlope + ds.RescaleIntercept
            y_max = y_max * ds.RescaleSlope + ds.RescaleIntercept
        g = (v - y_min) / (y_max - y_min) * 255
    else:
        g = (v - v.min()) / (v.max() - v.min()) * 255 if v.max() > v.min() else v * 0
    g = np.clip(np.round(g), 0, 255).astype(np.uint8)
    return 255 - g if ds.PhotometricInterpretation == "MONOCHROME1" else g


def encapsulated(ds, frame_bytes, syntax):
    ds.file_meta.TransferSyntaxUID = syntax
    ds.PixelData = encapsulate([frame_bytes])
    ds["PixelData"].VR = "OB"
    return ds


def image_cases():
    """(name, dataset, the pixel array pydicom reads back) for every valid image case."""
    cases = []

    def add(name, ds, arr=None):
        cases.append((name, ds, arr if arr is not None else ds.pixel_array))

    a8 = pattern(3, 250, 1)
    add("mono2-8bit-minmax", dataset(a8, 8))
    a12 = pattern(100, 3900, 2)
    add("mono2-12bit-window-linear", dataset(a12, 12, WindowCenter=2000, WindowWidth=2500))
    add("mono1-12bit-window-linear", dataset(a12, 12, photometric="MONOCHROME1", WindowCenter=1800, WindowWidth=3000))
    add("mono1-12bit-minmax", dataset(a12, 12, photometric="MONOCHROME1"))
    a16 = pattern(500, 64000, 3)
    add("mono2-16bit-linear-exact", dataset(a16, 16, WindowCenter=30000.5, WindowWidth=40000, VOILUTFunction="LINEAR_EXACT"))
    add("mono2-16bit-sigmoid", dataset(a16, 16, WindowCenter=32000, WindowWidth=30000, VOILUTFunction="SIGMOID"))
    add("mono2-16bit-two-windows", dataset(a16, 16, WindowCenter=[20000, 50000], WindowWidth=[30000, 4000]))
    s16 = pattern(-30000, 31000, 4)
    add("signed-16bit-rescale-window", dataset(s16, 16, signed=True, RescaleSlope=2, RescaleIntercept=-1024, RescaleType="US", WindowCenter=0, WindowWidth=90000))
    s12 = pattern(-2000, 2000, 5)
    add("signed-12bit-minmax", dataset(s12, 12, signed=True))
    add("signed-12bit-rescale-minmax", dataset(s12, 12, signed=True, RescaleSlope=0.5, RescaleIntercept=100))
    a10 = pattern(0, 1023, 6)
    ds = dataset(a10, 10)
    ds.ModalityLUTSequence = Sequence([lut_item(0, 16, np.round(np.sqrt(np.arange(1024)) * 2000))])
    ds.ModalityLUTSequence[0].ModalityLUTType = "US"
    ds.WindowCenter, ds.WindowWidth = 30000, 40000
    add("mono2-10bit-modality-lut-window", ds)
    ds = dataset(a12, 12)
    ds.VOILUTSequence = Sequence([lut_item(200, 16, np.round(np.linspace(0, 65535, 3600) ** 1.0))])
    add("mono2-12bit-voi-lut", ds)
    add("implicit-vr-12bit-window", dataset(a12, 12, syntax=ImplicitVRLittleEndian, WindowCenter=2100, WindowWidth=2000))
    add("big-endian-16bit-window", dataset(a16, 16, syntax=ExplicitVRBigEndian, WindowCenter=30000, WindowWidth=50000))
    add("deflated-12bit-window", dataset(a12, 12, syntax=DeflatedExplicitVRLittleEndian, WindowCenter=2000, WindowWidth=3000))
    multi = pattern(100, 3900, 7, frames=3)
    add("multiframe-12bit-window", dataset(multi, 12, WindowCenter=2000, WindowWidth=3000))

    ds = dataset(a12, 12, WindowCenter=2000, WindowWidth=3000)
    ds.compress(RLELossless, encoding_plugin="pydicom")
    add("rle-12bit-window", ds, a12)
    ds = dataset(a8, 8, photometric="MONOCHROME1")
    ds.compress(RLELossless, encoding_plugin="pydicom")
    add("rle-8bit-mono1", ds, a8)
    add("jpegls-12bit-window", encapsulated(dataset(a12, 12, WindowCenter=2000, WindowWidth=3000), imagecodecs.jpegls_encode(a12.astype(np.uint16)), JPEGLSLossless), a12)
    j2k = imagecodecs.jpeg2k_encode(a16.astype(np.uint16), level=0, codecformat="j2k", reversible=True)
    add("j2k-16bit-window", encapsulated(dataset(a16, 16, WindowCenter=30000, WindowWidth=50000), j2k, JPEG2000Lossless), a16)
    lossless = imagecodecs.jpeg8_encode(a12.astype(np.uint16), lossless=True, bitspersample=12, predictor=1)
    add("jpeg-lossless-12bit-mono1", encapsulated(dataset(a12, 12, photometric="MONOCHROME1"), lossless, JPEGLosslessSV1), a12)
    return cases


def malformed_cases(out):
    """(name, file bytes, expected error substring)."""
    a12 = pattern(100, 3900, 2)

    def dump(ds):
        path = out / "tmp.dcm"
        ds.save_as(path, enforce_file_format=True)
        data = path.read_bytes()
        path.unlink()
        return data

    good = dump(dataset(a12, 12, WindowCenter=2000, WindowWidth=3000))
    cases = [("truncated-pixel-data", good[:-500], "truncated")]
    ts = good.index(b"\x02\x00\x10\x00")
    cases.append(("no-transfer-syntax", good[:ts] + b"\x02\x00\x18\x00" + good[ts + 4 :], "no Transfer Syntax UID"))
    cases.append(("wrong-length", dump(dataset(a12, 12, Rows=H + 4)), "does not match"))
    ds = dataset(a12, 12)
    del ds.PixelData
    for k in ("Rows", "Columns", "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation", "PhotometricInterpretation", "SamplesPerPixel"):
        delattr(ds, k)
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = BASIC_TEXT_SR
    ds.Modality = "SR"
    cases.append(("structured-report", dump(ds), "without pixel data"))
    bad = bytearray(imagecodecs.jpegls_encode(a12.astype(np.uint16)))
    bad[40:] = b"\x00" * (len(bad) - 40)
    cases.append(("corrupt-jpegls", dump(encapsulated(dataset(a12, 12), bytes(bad), JPEGLSLossless)), "corrupt JPEG-LS"))
    return cases


def data_folder(out):
    """A class-folder data set: patients by PatientID, one file without extension, a lateral view and a report."""
    files = [
        ("covid/a1.dcm", "CANARY-PID-A", "PA"), ("covid/a2.dcm", "CANARY-PID-A", "AP"), ("covid/a3.dcm", "CANARY-PID-A", "PA"),
        ("covid/b1.dcm", "CANARY-PID-B", "PA"), ("normal/c1.dcm", "CANARY-PID-C", "PA"), ("normal/C2", "CANARY-PID-C", "PA"),
        ("normal/lateral.dcm", "CANARY-PID-D", "LL"),
    ]
    for i, (rel, patient, view) in enumerate(files):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        dataset(pattern(100, 3900, 20 + i), 12, patient=patient, ViewPosition=view, WindowCenter=2000, WindowWidth=3000).save_as(path, enforce_file_format=True)
    ds = dataset(pattern(100, 3900, 2), 12, patient="CANARY-PID-E")
    del ds.PixelData
    ds.Modality = "SR"
    ds.save_as(out / "normal" / "report.dcm", enforce_file_format=True)


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    listed = []
    cases = image_cases()
    if "--jpeg" in sys.argv:
        jpeg = Path(sys.argv[sys.argv.index("--jpeg") + 1]).read_bytes()
        ds = encapsulated(dataset(pattern(0, 255, 8), 8), jpeg, JPEGBaseline8Bit)
        cases.append(("jpeg-baseline-8bit", ds, None))
    for name, ds, arr in cases:
        ds.save_as(out / f"{name}.dcm", enforce_file_format=True)
        entry = {"name": name, "file": f"{name}.dcm", "width": W, "height": H, "frames": int(getattr(ds, "NumberOfFrames", 1))}
        if arr is not None:
            (out / f"{name}.ref").write_bytes(reference(ds, np.asarray(arr)).tobytes())
            entry["ref"] = f"{name}.ref"
        listed.append(entry)
    for name, data, error in malformed_cases(out):
        (out / f"{name}.dcm").write_bytes(data)
        listed.append({"name": name, "file": f"{name}.dcm", "error": error})
    (out / "cases.json").write_text(json.dumps(listed, indent=1))
    data_folder(out / "data")


if __name__ == "__main__":
    main()
