"""Signing packages and refusing unsigned, tampered and untrusted ones."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from propolis.metadata.packages.errors import PackageError
from propolis.metadata.packages.files import SIGNATURE, read_files
from propolis.metadata.packages.package import read_package
from propolis.metadata.packages.signing import (
    fingerprint,
    generate_key,
    load_private_key,
    load_public_key,
    manifest_text,
    parse_trusted_keys,
    private_key_text,
    public_key_text,
    sign,
    verify,
)

from .conftest import FILES, Writer, write_zip

KEY = generate_key()
OTHER = generate_key()
TRUSTED = [KEY.public_key()]


def refused(package: Path, **options: bool) -> PackageError:
    with pytest.raises(PackageError) as exc:
        verify(package, TRUSTED, **options)
    return exc.value


def test_a_signed_folder_verifies(package_dir: Writer) -> None:
    root = package_dir()
    document = sign(root, KEY)
    assert verify(root, TRUSTED) == fingerprint(KEY.public_key())
    assert sorted(document["files"]) == sorted(FILES)
    stored = json.loads((root / SIGNATURE).read_text())
    assert stored == document
    assert stored["public_key"] == public_key_text(KEY)
    # the signed package still reads; the signature file is no document
    assert len(read_package(root).documents) == 5


@pytest.mark.parametrize("prefix", ["", "decoration/"])
def test_a_signed_zip_verifies_and_matches_its_folder(
    tmp_path: Path, package_dir: Writer, prefix: str
) -> None:
    path = write_zip(tmp_path / "p.zip", FILES, prefix)
    document = sign(path, KEY)
    with zipfile.ZipFile(path) as archive:
        assert prefix + SIGNATURE in archive.namelist()
    assert verify(path, TRUSTED)
    assert document["files"] == sign(package_dir(), KEY)["files"]
    # signing again replaces the signature (one entry, still valid)
    sign(path, KEY)
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist().count(prefix + SIGNATURE) == 1
    assert verify(path, TRUSTED)


def test_the_signed_text_is_the_sorted_hash_list() -> None:
    text = manifest_text({"b.yaml": "22", "a.yaml": "11"})
    assert text == b"propolis-extension-manifest 1\n11  a.yaml\n22  b.yaml\n"


def test_unsigned_packages_are_refused_where_signatures_are_required(
    package_dir: Writer,
) -> None:
    root = package_dir()
    error = refused(root)
    assert error.codes == ["unsigned"]
    assert "not signed" in str(error)
    assert "未签名" in error.problems[0].as_text()["zh"]
    assert verify(root, TRUSTED, require_signature=False) is None


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("changed", "objects/site.yaml was changed after signing"),
        ("added", "objects/extra.yaml was added after signing"),
        ("removed", "roles.yaml was removed after signing"),
    ],
)
def test_tampered_packages_are_refused_even_in_development(
    package_dir: Writer, change: str, words: str
) -> None:
    root = package_dir()
    sign(root, KEY)
    if change == "changed":
        with (root / "objects" / "site.yaml").open("a") as file:
            file.write("deletable: false\n")
    elif change == "added":
        (root / "objects" / "extra.yaml").write_text("kind: object\n")
    else:
        (root / "roles.yaml").unlink()
    for required in (True, False):
        error = refused(root, require_signature=required)
        assert error.codes == ["tampered"]
        assert words in str(error)


def test_a_tampered_zip_is_refused(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "p.zip", FILES)
    sign(path, KEY)
    files = read_files(path)
    tampered = {**files.files, "data/sites.yaml": b"- {name: x}\n"}
    write_zip(path, tampered)
    assert refused(path).codes == ["tampered"]


def test_an_edited_signature_file_is_refused(package_dir: Writer) -> None:
    root = package_dir()
    document = sign(root, KEY)
    (root / "objects" / "site.yaml").write_text("kind: object\n")
    # the tamperer updates the hash too: the signature no longer matches
    document["files"]["objects/site.yaml"] = "0" * 64
    (root / SIGNATURE).write_text(json.dumps(document))
    error = refused(root)
    assert "bad_signature" in error.codes
    assert "does not match" in str(error)


def test_a_broken_signature_file_is_refused(package_dir: Writer) -> None:
    root = package_dir()
    (root / SIGNATURE).write_text("{not json")
    assert refused(root).codes == ["bad_signature_file"]
    (root / SIGNATURE).write_text(json.dumps({"format": 2}))
    assert refused(root).codes == ["bad_signature_file"]


def test_packages_signed_by_an_unknown_key(package_dir: Writer) -> None:
    root = package_dir()
    sign(root, OTHER)
    error = refused(root)
    assert error.codes == ["untrusted_key"]
    assert fingerprint(OTHER.public_key()) in str(error)
    assert "propolis.extensions.trusted_keys" in str(error)
    # development: accepted, but not as trusted (no hooks)
    assert verify(root, TRUSTED, require_signature=False) is None
    assert verify(root, [OTHER.public_key()]) == fingerprint(OTHER.public_key())


def test_keys_round_trip_as_base64_and_pem() -> None:
    text = private_key_text(KEY)
    assert public_key_text(load_private_key(text)) == public_key_text(KEY)
    pem = KEY.private_bytes(serialization.Encoding.PEM,
                            serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    assert public_key_text(load_private_key(pem)) == public_key_text(KEY)
    assert public_key_text(load_public_key(public_key_text(KEY))) == public_key_text(
        KEY)


def test_bad_keys_are_refused() -> None:
    for text in ("", "not base64!", "QUJD", "-----BEGIN PRIVATE KEY-----\nxx\n"):
        with pytest.raises(PackageError) as exc:
            load_private_key(text)
        assert exc.value.codes == ["bad_key"]


def test_trusted_keys_setting() -> None:
    one, two = public_key_text(KEY), public_key_text(OTHER)
    keys = parse_trusted_keys(f"\n  {one},\n {two}\n")
    assert [public_key_text(k) for k in keys] == [one, two]
    assert parse_trusted_keys("") == ()
    with pytest.raises(PackageError) as exc:
        parse_trusted_keys(f"{one} nonsense")
    assert exc.value.problems[0].source == "propolis.extensions.trusted_keys"
    assert "'nonsense' is not an Ed25519 public key" in str(exc.value)
