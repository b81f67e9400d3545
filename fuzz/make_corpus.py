#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/), standard library only.

Small valid files in the shapes real tools write (safetensors as the reference writer lays them
out; .pth archives as torch.save does: stored zip, <name>/data.pkl protocol 2, data/<key>
storage records) plus one file per malformed case the readers must refuse. Rerun it after
changing a case; the output is deterministic.
"""
import io
import json
import os
import shutil
import struct
import zipfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


# --- safetensors -----------------------------------------------------------------------------

def safetensors(header, data=b"", pad=True):
    text = header if isinstance(header, bytes) else json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def entry(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def safetensors_cases():
    f32 = struct.pack("<6f", 0.5, -1.0, 2.0, 3.25, -0.0, 1e-3)
    cases = {
        "valid_one_f32": safetensors({"w": entry("F32", [2, 3], 0, 24)}, f32),
        "valid_metadata": safetensors(
            {"__metadata__": {"format": "pt"}, "w": entry("F32", [2, 3], 0, 24)}, f32),
        "valid_mixed_dtypes": safetensors(
            {"step": entry("I64", [], 0, 8), "half": entry("F16", [2], 8, 12),
             "bf": entry("BF16", [1, 1], 12, 14), "mask": entry("BOOL", [2], 14, 16),
             "ids": entry("I32", [1], 16, 20), "pix": entry("U8", [3], 20, 23),
             "empty": entry("F32", [0, 5], 23, 23)},
            struct.pack("<q", 7) + b"\x00\x3c\x00\xc0" + b"\x80\x3f" + b"\x01\x00" +
            struct.pack("<i", -3) + b"\x01\x02\x03"),
        "valid_empty": safetensors({}),
        "valid_unpadded": safetensors({"b": entry("U8", [1], 0, 1)}, b"\x07", pad=False),
        "valid_rare_dtypes": safetensors(
            {"a": entry("F64", [1], 0, 8), "b": entry("U64", [1], 8, 16), "c": entry("U32", [1], 16, 20),
             "d": entry("U16", [1], 20, 22), "e": entry("I16", [1], 22, 24), "f": entry("I8", [1], 24, 25),
             "g": entry("F8_E4M3", [1], 25, 26), "h": entry("F8_E5M2", [1], 26, 27)},
            bytes(range(27))),
        "bad_too_small": b"\x05\x00\x00",
        "bad_length_past_end": struct.pack("<Q", 1000) + b"{}",
        "bad_length_huge": struct.pack("<Q", 200_000_000) + b"{}",
        "bad_length_max": struct.pack("<Q", 2**64 - 1) + b"{}",
        "bad_not_utf8": safetensors(b'{"w\xff":{}}'),
        "bad_overlong_utf8": safetensors(b'{"\xc0\xaf":1}'),
        "bad_not_object": safetensors(b"[1,2,3]"),
        "bad_leading_space": safetensors(b" {}"),
        "bad_json": safetensors(b'{"w":{"dtype":"F32",'),
        "bad_duplicate_key": safetensors(
            b'{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},'
            b'"w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', b"ab"),
        "bad_deep_nesting": safetensors(b'{"w":' + b"[" * 64 + b"]" * 64 + b"}"),
        "bad_dtype": safetensors({"w": entry("F128", [1], 0, 16)}, bytes(16)),
        "bad_negative_dim": safetensors({"w": entry("U8", [2, -3], 0, 6)}, bytes(6)),
        "bad_fractional_dim": safetensors(b'{"w":{"dtype":"U8","shape":[2.5],"data_offsets":[0,2]}}', bytes(2)),
        "bad_dim_overflow": safetensors({"w": entry("U8", [2**32, 2**32, 16], 0, 1)}, b"a"),
        "bad_bytes_overflow": safetensors({"w": entry("F64", [2**61], 0, 8)}, bytes(8)),
        "bad_offsets_past_end": safetensors({"w": entry("F32", [4], 0, 16)}, bytes(12)),
        "bad_offsets_reversed": safetensors({"w": entry("U8", [0], 4, 2)}, bytes(4)),
        "bad_overlap": safetensors({"a": entry("F32", [2], 0, 8), "b": entry("F32", [2], 4, 12)}, bytes(12)),
        "bad_gap": safetensors({"a": entry("U8", [2], 0, 2), "b": entry("U8", [2], 4, 6)}, bytes(6)),
        "bad_size_mismatch": safetensors({"w": entry("F32", [2, 3], 0, 20)}, bytes(20)),
        "bad_trailing": safetensors({"w": entry("F32", [2, 3], 0, 24)}, f32 + b"junk!"),
        "bad_metadata_value": safetensors({"__metadata__": {"step": 5}}),
        "bad_missing_offsets": safetensors({"w": {"dtype": "U8", "shape": [1]}}, b"a"),
    }
    return cases


# --- .pth ------------------------------------------------------------------------------------

class Pickle:
    """Protocol-2 opcodes as torch.save emits them for a state dict."""

    def __init__(self):
        self.out = bytearray(b"\x80\x02")

    def op(self, code):
        self.out += code
        return self

    def glob(self, module, name):
        return self.op(b"c" + module.encode() + b"\n" + name.encode() + b"\n")

    def text(self, value):
        data = value.encode()
        return self.op(b"X" + struct.pack("<I", len(data)) + data)

    def int(self, value):
        if 0 <= value < 256:
            return self.op(b"K" + bytes([value]))
        if 0 <= value < 65536:
            return self.op(b"M" + struct.pack("<H", value))
        return self.op(b"J" + struct.pack("<i", value))

    def ints(self, values):
        self.op(b"(")
        for value in values:
            self.int(value)
        return self.op(b"t")

    def ordered_dict(self):
        return self.glob("collections", "OrderedDict").op(b")R")

    def tensor(self, storage_type, key, numel, offset, size, stride):
        self.glob("torch._utils", "_rebuild_tensor_v2").op(b"(")
        self.op(b"(").text("storage").glob("torch", storage_type).text(key).text("cpu").int(numel).op(b"t")
        self.op(b"Q").int(offset).ints(size).ints(stride).op(b"\x89").ordered_dict().op(b"t")
        return self.op(b"R")

    def done(self):
        return bytes(self.out + b".")


def state_dict_pickle():
    p = Pickle().ordered_dict().op(b"q\x00(")
    p.text("conv.weight").tensor("FloatStorage", "0", 8, 0, [2, 1, 2, 2], [4, 4, 2, 1])
    p.text("conv.bias").tensor("HalfStorage", "1", 2, 0, [2], [1])
    p.text("steps").tensor("LongStorage", "2", 1, 0, [], [])
    p.text("view").tensor("FloatStorage", "0", 8, 2, [3, 2], [1, 3])
    p.op(b"u")
    # the state dict's _metadata attribute, as torch.save writes it
    p.op(b"}").text("_metadata").ordered_dict().text("").op(b"}").text("version").int(1).op(b"sssb")
    return p.done()


def storages():
    return {"0": struct.pack("<8f", *range(8)), "1": b"\x00\x3c\x00\xc0", "2": struct.pack("<q", 42)}


def pth(pickle, records, prefix="model", byteorder=b"little", extra=()):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in [("data.pkl", pickle), ("byteorder", byteorder)] + \
                [("data/" + key, value) for key, value in records.items()] + [("version", b"3\n")] + list(extra):
            info = zipfile.ZipInfo(prefix + "/" + name, date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(info, data)
    return buffer.getvalue()


def pth_cases():
    good = pth(state_dict_pickle(), storages())
    corrupt_crc = bytearray(good)
    corrupt_crc[good.index(b"data/0") + 10] ^= 1
    cases = {
        "valid_state_dict": good,
        "valid_nested": pth(Pickle().op(b"}").text("model").op(b"}").text("w")
                            .tensor("FloatStorage", "0", 8, 0, [8], [1]).op(b"ss").done(), storages()),
        "bad_not_zip": b"not a zip archive at all",
        "bad_legacy": b"\x80\x02\x8a\x0alZ\xfc\x9cF\xf9 j\xa8P\x19.",
        "bad_truncated": good[: len(good) // 2],
        "bad_no_data_pkl": _zip_without_pickle(),
        "bad_crc": bytes(corrupt_crc),
        "bad_big_endian": pth(state_dict_pickle(), storages(), byteorder=b"big"),
        "bad_missing_storage": pth(state_dict_pickle(), {"0": storages()["0"]}),
        "bad_storage_size": pth(state_dict_pickle(), dict(storages(), **{"0": b"\x00" * 12})),
        "bad_view_out_of_range": pth(Pickle().ordered_dict().op(b"(").text("w")
                                     .tensor("FloatStorage", "0", 8, 6, [2, 2], [2, 1]).op(b"u").done(), storages()),
        "bad_not_dict": pth(Pickle().op(b"]").done(), {}),
        "bad_opaque_object": pth(Pickle().glob("os", "system").text("true").op(b"\x85R").done(), {}),
        "bad_no_stop": pth(state_dict_pickle()[:-1], storages()),
    }
    return cases


def _zip_without_pickle():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(zipfile.ZipInfo("model/data/0", date_time=(1980, 1, 1, 0, 0, 0)), b"\x00" * 4)
    return buffer.getvalue()


def pickle_cases():
    """Seeds for fuzz_pth_pickle, which wraps data.pkl with storages 0-3 of 64 bytes each."""
    p = Pickle().ordered_dict().op(b"(")
    p.text("a").tensor("FloatStorage", "0", 16, 0, [4, 4], [4, 1])
    p.text("b").tensor("HalfStorage", "1", 32, 4, [2, 3], [1, 2])
    p.text("c").tensor("LongStorage", "2", 8, 0, [8], [1])
    p.text("d").tensor("BoolStorage", "3", 64, 0, [64], [1])
    p.text("e").glob("torch._utils", "_rebuild_parameter").op(b"(")
    p.tensor("BFloat16Storage", "3", 32, 0, [32], [1]).op(b"\x88").ordered_dict().op(b"tR")
    p.op(b"u")
    return {
        "valid_dict": p.done(),
        "valid_memo": Pickle().op(b"}q\x00").text("x").tensor("ByteStorage", "0", 64, 0, [8, 8], [8, 1])
                      .op(b"q\x01s").text("y").op(b"h\x01s").done(),
        "valid_stack_global": Pickle().text("collections").text("OrderedDict").op(b"\x93)R").done(),
        "bad_underflow": Pickle().op(b"R").done(),
        "bad_memo": Pickle().op(b"h\x09").done(),
        "bad_opcode": Pickle().op(b"S'x'\n").done(),
    }


def texture_bank_cases():
    """bank.json manifests of texture banks (docs/PIPELINES.md, "Texture bank")."""
    valid = {"format": "terrasynth-texture-bank/1", "class_weight": 0.05,
             "styles": {"dubai": {"gsd": 1.2, "licence": "CC0", "images": [
                 {"rgb": "dubai_00.png", "classes": "dubai_00_classes.png",
                  "source_item": "tile1_image_part_001"}]},
                 "recife": {"gsd": 0.25, "images": []}}}
    def dump(doc):
        return json.dumps(doc).encode()
    traversal = json.loads(json.dumps(valid))
    traversal["styles"]["dubai"]["images"][0]["rgb"] = "../x.png"
    small_gsd = json.loads(json.dumps(valid))
    small_gsd["styles"]["dubai"]["gsd"] = 0.001
    return {
        "valid": dump(valid),
        "bad_traversal": dump(traversal),
        "bad_gsd": dump(small_gsd),
        "bad_styles": b'{"styles": []}',
        "bad_weight": b'{"class_weight": "x", "styles": {}}',
        "bad_truncated": dump(valid)[:40],
    }


def model_manifest_cases():
    """model.json of a model package (first byte '0', an even byte) and the config.json of its
    detail decoder (first byte '1'), for fuzz_model_manifest."""
    manifest = {
        "format": "terrasynth-model", "format_version": 1, "name": "tiny", "version": "0.1.0",
        "classes": [{"name": "other", "colour": [150, 150, 150]}, {"name": "building", "colour": [220, 40, 40]}],
        "styles": ["recife", "landcoverai"], "default_style": "recife", "scenes": ["forest"],
        "gsd": {"native": 0.5, "min": 0.25, "max": 2.5}, "tile": {"size": 512, "overlap": 64},
        "pixel_multiple": 32,
        "sampler": {"name": "ddim", "steps": 14, "guidance": 5.0, "guidance_interval": [0.5, 1.0],
                    "coarse_guidance": {"scale": 2.0, "sigma": 8.0}, "eta": 1.0, "eta_min_timestep": 700,
                    "chroma_smoothing": 1.0},
        "conditioning": {"latent": {"type": "pixel_unshuffle", "factor": 4, "channels": 48, "scaling_factor": 2.0},
                         "layout": True, "inpaint": True, "class_vector": True,
                         "gsd": {"reference": 0.5, "scale": 0.5}},
        "components": {"unet": "unet", "scheduler": "scheduler"},
        "refiner": {"folder": "refiner", "below_timestep": 300, "detail_sigma": 2},
        "detail_decoder": {"folder": "detail"},
    }
    detail = {"format": "terrasynth-detail-decoder", "format_version": 1, "factor": 4, "num_classes": 7,
              "num_styles": 4, "channels": [64, 48, 32], "blocks": 6, "stage_blocks": 1, "noise": True,
              "gsd_reference": 0.5, "gsd_scale": 0.5, "input_blur": 1.0}

    def variant(doc, path, value):
        doc = json.loads(json.dumps(doc))
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return doc

    def m(doc):
        return b"0" + json.dumps(doc).encode()

    def d(doc):
        return b"1" + json.dumps(doc).encode()
    return {
        "manifest_valid": m(manifest),
        "manifest_bad_traversal": m(variant(manifest, ["detail_decoder", "folder"], "../x")),
        "manifest_bad_float_int": m(variant(manifest, ["sampler", "steps"], 1e300)),
        "manifest_bad_section": m(variant(manifest, ["conditioning"], "latent")),
        "manifest_bad_tile": m(variant(manifest, ["tile", "size"], 500)),
        "manifest_bad_truncated": m(manifest)[:80],
        "detail_valid": d(detail),
        "detail_bad_factor": d(variant(detail, ["factor"], 3)),
        "detail_bad_channels": d(variant(detail, ["channels"], [64, 48])),
        "detail_bad_float_int": d(variant(detail, ["blocks"], 1e300)),
        "detail_bad_noise": d(variant(detail, ["noise"], 1)),
        "detail_bad_format_type": d(variant(detail, ["format"], 4)),
    }


def write(folder, cases, extension):
    path = os.path.join(ROOT, folder)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    for name, data in sorted(cases.items()):
        with open(os.path.join(path, name + extension), "wb") as out:
            out.write(data)
    print(f"{path}: {len(cases)} files")


if __name__ == "__main__":
    write("safetensors", safetensors_cases(), ".safetensors")
    write("pth_archive", pth_cases(), ".pth")
    write("pth_pickle", pickle_cases(), ".pkl")
    write("texture_bank", texture_bank_cases(), ".json")
    write("model_manifest", model_manifest_cases(), ".json")
