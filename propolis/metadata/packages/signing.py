"""Publishers' signatures on packages: Ed25519 over a manifest of file hashes.

``sign`` writes ``signature.json`` into the package (a folder, or a ``.zip`` that
is rewritten with it), holding:

* ``files``: the SHA-256 (hex) of every other file of the package, by path;
* ``public_key``: the signer's public key;
* ``signature``: the Ed25519 signature of the manifest text, which is the line
  ``propolis-extension-manifest 1`` followed by one line ``<sha256>  <path>`` per
  file, sorted by path, each ending in a newline (UTF-8).

``verify`` recomputes the hashes from the files as read and refuses a package that
is unsigned (when signatures are required), whose signature does not match its
manifest, whose files differ from the manifest (a changed, added or removed file)
or whose key is not trusted. A present signature is always checked: a package
whose files do not match it is refused even where unsigned ones are accepted.

Keys are written as base64 of the raw 32-byte keys (what ``private_key_text`` and
``public_key_text`` give). The platform reads the trusted public keys from the ini's
``propolis.extensions.trusted_keys`` (separated by spaces, commas or newlines;
``parse_trusted_keys``), and whether unsigned packages are refused from
``propolis.extensions.require_signature``. A private key may also be given as a
PEM (PKCS#8) file, as ``openssl genpkey -algorithm ed25519`` writes it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from propolis.metadata.errors import Problem, Text
from propolis.metadata.packages.errors import PackageError, fail, package_problem
from propolis.metadata.packages.files import (
    DEFAULT_LIMITS,
    SIGNATURE,
    Limits,
    PackageFiles,
    read_files,
)

MANIFEST_HEADER = "propolis-extension-manifest 1\n"
ALGORITHM = "ed25519"
_KEY_SEPARATORS = re.compile(r"[\s,]+")
_TRUST_FIX = Text(
    "ask the publisher for their public key and add it to "
    "propolis.extensions.trusted_keys, if you trust them",
    "如果信任该发布者，请索取其公钥并加入 propolis.extensions.trusted_keys",
)


def generate_key() -> Ed25519PrivateKey:
    """A new signing key for a publisher."""
    return Ed25519PrivateKey.generate()


def private_key_text(key: Ed25519PrivateKey) -> str:
    """The private key as base64 of its raw 32 bytes (keep it secret)."""
    raw = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return base64.b64encode(raw).decode("ascii")


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The public key as base64 of its raw 32 bytes (what the ini lists)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw,
                              serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def fingerprint(key: Ed25519PublicKey) -> str:
    """A short name for a public key in messages: the first 16 hex digits of the
    SHA-256 of its raw bytes."""
    raw = key.public_bytes(serialization.Encoding.Raw,
                           serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_private_key(text: str | bytes) -> Ed25519PrivateKey:
    """A private key from base64 of its raw bytes or from PEM (PKCS#8)."""
    data = text.encode("ascii", "replace") if isinstance(text, str) else text
    if b"-----BEGIN" in data:
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            key = None
        if isinstance(key, Ed25519PrivateKey):
            return key
    else:
        raw = _base64(data.strip())
        if raw is not None and len(raw) == 32:
            return Ed25519PrivateKey.from_private_bytes(raw)
    raise fail(
        "bad_key",
        "private key",
        Text("this is not an Ed25519 private key", "这不是 Ed25519 私钥"),
        Text("give the base64 key 'propolis extension keygen' printed, or an "
             "unencrypted PEM file of an Ed25519 key",
             "请提供 'propolis extension keygen' 生成的 base64 私钥，或未加密的 "
             "Ed25519 PEM 文件"),
    )


def load_public_key(text: str, source: str = "public key") -> Ed25519PublicKey:
    """A public key from base64 of its raw 32 bytes."""
    raw = _base64(text.strip().encode("ascii", "replace"))
    if raw is None or len(raw) != 32:
        raise fail(
            "bad_key",
            source,
            Text(f"{text!r} is not an Ed25519 public key in base64",
                 f"{text!r} 不是 base64 编码的 Ed25519 公钥"),
            Text("copy the publisher's public key exactly (44 characters ending "
                 "in '=')",
                 "请完整复制发布者的公钥（44 个字符，以 '=' 结尾）"),
        )
    return Ed25519PublicKey.from_public_bytes(raw)


def parse_trusted_keys(setting: str | Iterable[str]) -> tuple[Ed25519PublicKey, ...]:
    """The keys of ``propolis.extensions.trusted_keys``: base64 public keys
    separated by spaces, commas or newlines (or given as a list)."""
    items = (
        _KEY_SEPARATORS.split(setting) if isinstance(setting, str) else list(setting)
    )
    problems: list[Problem] = []
    keys = []
    for item in (i for i in items if i.strip()):
        try:
            keys.append(load_public_key(item, "propolis.extensions.trusted_keys"))
        except PackageError as exc:
            problems += exc.problems
    if problems:
        raise PackageError(problems)
    return tuple(keys)


def file_hashes(files: PackageFiles) -> dict[str, str]:
    """SHA-256 (hex) of every file of the package but the signature, by path,
    sorted by path."""
    return {
        path: hashlib.sha256(data).hexdigest()
        for path, data in sorted(files.files.items())
        if path != SIGNATURE
    }


def manifest_text(hashes: Mapping[str, str]) -> bytes:
    """What is signed (see the module docstring)."""
    lines = "".join(f"{digest}  {path}\n" for path, digest in sorted(hashes.items()))
    return (MANIFEST_HEADER + lines).encode("utf-8")


def sign(
    package: str | os.PathLike[str],
    private_key: Ed25519PrivateKey,
    limits: Limits = DEFAULT_LIMITS,
) -> dict[str, Any]:
    """Signs the package at ``package`` (a folder or a ``.zip``), writing or
    replacing its ``signature.json``; returns the signature document."""
    files = read_files(package, limits)
    hashes = file_hashes(files)
    document = {
        "format": 1,
        "algorithm": ALGORITHM,
        "public_key": public_key_text(private_key),
        "files": hashes,
        "signature": base64.b64encode(
            private_key.sign(manifest_text(hashes))
        ).decode("ascii"),
    }
    body = (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")
    if files.is_zip:
        _rewrite_zip(Path(package), files, body)
    else:
        (Path(package) / SIGNATURE).write_bytes(body)
    return document


def verify(
    package: str | os.PathLike[str] | PackageFiles,
    trusted_keys: Iterable[Ed25519PublicKey],
    *,
    require_signature: bool = True,
    limits: Limits = DEFAULT_LIMITS,
) -> str | None:
    """Checks the package's signature. Returns the fingerprint of the trusted key
    that signed it, or ``None`` for a package accepted without a trusted signature
    (unsigned, or signed by an unknown key, where ``require_signature`` is false).
    Raises ``PackageError`` with every reason otherwise."""
    files = (
        package if isinstance(package, PackageFiles) else read_files(package, limits)
    )
    if SIGNATURE not in files.files:
        if not require_signature:
            return None
        raise fail(
            "unsigned",
            files.source,
            Text("the package is not signed, and this installation only accepts "
                 "signed packages",
                 "扩展包未签名，而本系统只接受已签名的扩展包"),
            Text("ask the publisher for a package signed with "
                 "'propolis extension sign'",
                 "请向发布者索取用 'propolis extension sign' 签名的扩展包"),
        )
    document, key, signature = _signature_document(files)
    problems: list[Problem] = []
    listed: dict[str, str] = document["files"]
    try:
        key.verify(signature, manifest_text(listed))
    except InvalidSignature:
        problems.append(package_problem(
            "bad_signature",
            files.source,
            Text("the signature does not match the package's list of files",
                 "签名与扩展包的文件清单不符"),
            Text("the package was altered after signing: get it again from the "
                 "publisher",
                 "扩展包在签名后被改动过，请重新向发布者获取"),
            SIGNATURE,
        ))
    problems += _tampered(files, listed)
    trusted = {fingerprint(k) for k in trusted_keys}
    signer = fingerprint(key)
    if signer not in trusted and not problems:
        if not require_signature:
            return None
        problems.append(package_problem(
            "untrusted_key",
            files.source,
            Text(f"the package is signed by the key {signer}, which is not trusted "
                 "here",
                 f"扩展包由密钥 {signer} 签名，但该密钥不在受信任列表中"),
            _TRUST_FIX,
            SIGNATURE,
        ))
    if problems:
        raise PackageError(problems)
    return signer


def _tampered(files: PackageFiles, listed: Mapping[str, str]) -> list[Problem]:
    actual = file_hashes(files)
    fix = Text("the package was altered after signing: get it again from the "
               "publisher",
               "扩展包在签名后被改动过，请重新向发布者获取")
    problems = []
    for path in sorted(set(actual) | set(listed)):
        if path not in listed:
            message = Text(f"{path} was added after signing", f"{path} 是签名后添加的")
        elif path not in actual:
            message = Text(f"{path} was removed after signing",
                           f"{path} 在签名后被删除")
        elif actual[path] != listed[path]:
            message = Text(f"{path} was changed after signing",
                           f"{path} 在签名后被修改")
        else:
            continue
        problems.append(package_problem("tampered", files.source, message, fix, path))
    return problems


def _signature_document(
    files: PackageFiles,
) -> tuple[dict[str, Any], Ed25519PublicKey, bytes]:
    broken = fail(
        "bad_signature_file",
        files.source,
        Text(f"{SIGNATURE} is not a signature this version can read",
             f"{SIGNATURE} 不是本版本能识别的签名文件"),
        Text("sign the package again with 'propolis extension sign'",
             "请用 'propolis extension sign' 重新签名"),
        SIGNATURE,
    )
    try:
        document = json.loads(files.files[SIGNATURE].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise broken from None
    if not (
        isinstance(document, dict)
        and document.get("format") == 1
        and document.get("algorithm") == ALGORITHM
        and isinstance(document.get("files"), dict)
        and all(isinstance(k, str) and isinstance(v, str)
                for k, v in document["files"].items())
        and isinstance(document.get("public_key"), str)
        and isinstance(document.get("signature"), str)
    ):
        raise broken
    signature = _base64(document["signature"].encode("ascii", "replace"))
    if signature is None:
        raise broken
    key = load_public_key(document["public_key"], f"{files.source}/{SIGNATURE}")
    return document, key, signature


def _rewrite_zip(path: Path, files: PackageFiles, signature: bytes) -> None:
    """The zip again with the signature in it, replacing it in one rename."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".zip")
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in sorted(files.files.items()):
                if name != SIGNATURE:
                    archive.writestr(files.root + name, data)
            archive.writestr(files.root + SIGNATURE, signature)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _base64(data: bytes) -> bytes | None:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None
